using System.Runtime.InteropServices;

namespace TelnyxAiService.Speech.Pocketsphinx;

/// <summary>
/// The few entry points of Debian's pocketsphinx 5prealpha (libpocketsphinx.so.3) and sphinxbase (libsphinxbase.so.3)
/// this service uses. The configuration is built with <c>cmd_ln_parse_r</c> from an argv array, never the varargs
/// <c>cmd_ln_init</c>.
/// </summary>
internal static class PocketsphinxNative
{
    private const string Pocketsphinx = "libpocketsphinx.so.3";
    private const string Sphinxbase = "libsphinxbase.so.3";

    [DllImport(Pocketsphinx)]
    public static extern IntPtr ps_args();

    [DllImport(Pocketsphinx)]
    public static extern PocketsphinxHandle ps_init(IntPtr config);

    [DllImport(Pocketsphinx)]
    public static extern int ps_free(IntPtr decoder);

    [DllImport(Pocketsphinx)]
    public static extern int ps_start_utt(PocketsphinxHandle decoder);

    [DllImport(Pocketsphinx)]
    public static extern int ps_process_raw(PocketsphinxHandle decoder, ref short data, nuint samples, int noSearch, int fullUtterance);

    [DllImport(Pocketsphinx)]
    public static extern int ps_end_utt(PocketsphinxHandle decoder);

    [DllImport(Pocketsphinx)]
    public static extern IntPtr ps_get_hyp(PocketsphinxHandle decoder, out int bestScore);

    [DllImport(Pocketsphinx)]
    public static extern byte ps_get_in_speech(PocketsphinxHandle decoder);

    [DllImport(Sphinxbase)]
    public static extern IntPtr cmd_ln_parse_r(IntPtr config, IntPtr definitions, int argc, [In] string[] argv, int strict);

    [DllImport(Sphinxbase)]
    public static extern int cmd_ln_free_r(IntPtr config);

    [DllImport(Sphinxbase)]
    public static extern IntPtr err_set_logfile([MarshalAs(UnmanagedType.LPUTF8Str)] string path);
}

/// <summary>Owns one native decoder; <c>ps_free</c> runs exactly once, when it is disposed.</summary>
internal sealed class PocketsphinxHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => PocketsphinxNative.ps_free(handle) >= 0;
}
