using System.Runtime.InteropServices;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Speech.Pocketsphinx;

/// <summary>
/// One in-process pocketsphinx decoder (about 240 ms to create). Not thread-safe: one call's decoding task uses it.
/// Disposing frees the native decoder.
/// </summary>
internal sealed class PocketsphinxDecoder : IDisposable
{
    private const string Provider = "pocketsphinx";
    private static int _logsSilenced;

    private readonly PocketsphinxHandle _handle;

    private PocketsphinxDecoder(PocketsphinxHandle handle) => _handle = handle;

    public static PocketsphinxDecoder Create(PocketsphinxOptions options)
    {
        string[] files = [options.AcousticModel, options.Dictionary, options.Grammar ?? options.LanguageModel];
        if (files.FirstOrDefault(f => !File.Exists(f) && !Directory.Exists(f)) is { } missing)
        {
            throw new ProviderException(Provider, $"model file {missing} is missing: install the Debian package pocketsphinx-en-us (scripts/setup) or set POCKETSPHINX_MODEL_DIR", retryable: false);
        }

        string[] argv = options.Grammar is null
            ? ["-hmm", options.AcousticModel, "-lm", options.LanguageModel, "-dict", options.Dictionary]
            : ["-hmm", options.AcousticModel, "-jsgf", options.Grammar, "-dict", options.Dictionary];
        try
        {
            if (Interlocked.Exchange(ref _logsSilenced, 1) == 0)
            {
                PocketsphinxNative.err_set_logfile("/dev/null");
            }

            var config = PocketsphinxNative.cmd_ln_parse_r(IntPtr.Zero, PocketsphinxNative.ps_args(), argv.Length, argv, 1);
            if (config == IntPtr.Zero)
            {
                throw new ProviderException(Provider, "the decoder configuration was rejected", retryable: false);
            }

            try
            {
                var handle = PocketsphinxNative.ps_init(config);
                if (handle.IsInvalid)
                {
                    handle.Dispose();
                    throw new ProviderException(Provider, $"the decoder could not load the model in {Path.GetDirectoryName(options.AcousticModel)}", retryable: false);
                }

                var decoder = new PocketsphinxDecoder(handle);
                decoder.StartUtterance();
                return decoder;
            }
            finally
            {
                // ps_init keeps its own reference to the configuration.
                PocketsphinxNative.cmd_ln_free_r(config);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new ProviderException(Provider, "libpocketsphinx.so.3 could not be loaded: install the Debian packages pocketsphinx and pocketsphinx-en-us (scripts/setup)", retryable: false, e);
        }
    }

    /// <summary>Whether the decoder's voice activity detector is inside speech.</summary>
    public bool InSpeech => PocketsphinxNative.ps_get_in_speech(_handle) != 0;

    public void Process(ReadOnlySpan<short> samples)
    {
        if (samples.IsEmpty)
        {
            return;
        }

        if (PocketsphinxNative.ps_process_raw(_handle, ref MemoryMarshal.GetReference(samples), (nuint)samples.Length, 0, 0) < 0)
        {
            throw new ProviderException(Provider, "the decoder rejected the audio", retryable: false);
        }
    }

    /// <summary>The words recognised so far in the current utterance.</summary>
    public string Hypothesis() => Normalize(Marshal.PtrToStringUTF8(PocketsphinxNative.ps_get_hyp(_handle, out _)));

    /// <summary>Ends the utterance, returns its final words and starts the next one.</summary>
    public string EndUtterance()
    {
        if (PocketsphinxNative.ps_end_utt(_handle) < 0)
        {
            throw new ProviderException(Provider, "the decoder could not end the utterance", retryable: false);
        }

        var text = Hypothesis();
        StartUtterance();
        return text;
    }

    public void Dispose() => _handle.Dispose();

    private void StartUtterance()
    {
        if (PocketsphinxNative.ps_start_utt(_handle) < 0)
        {
            throw new ProviderException(Provider, "the decoder could not start an utterance", retryable: false);
        }
    }

    /// <summary>Lowercase words without fillers (&lt;sil&gt;, [noise], ++um++) or pronunciation variants (word(2)).</summary>
    internal static string Normalize(string? hypothesis)
    {
        if (string.IsNullOrWhiteSpace(hypothesis))
        {
            return "";
        }

        var words = hypothesis
            .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(w => w[0] is not ('<' or '[' or '+'))
            .Select(w => w.IndexOf('(', StringComparison.Ordinal) is > 0 and var i ? w[..i] : w)
            .Select(w => w.ToLowerInvariant());
        return string.Join(' ', words);
    }
}
