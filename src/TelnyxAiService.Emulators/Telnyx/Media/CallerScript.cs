using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.Telnyx.Media;

/// <summary>
/// What the emulated caller does, step by step. Between steps the caller keeps streaming silence, as Telnyx does.
/// A script that ends without <see cref="HangUp"/> leaves the caller on the line until the server closes the stream
/// or the call is cancelled.
/// </summary>
public sealed class CallerScript
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private readonly List<CallerStep> _steps = [];

    public IReadOnlyList<CallerStep> Steps => _steps;

    /// <summary>Speaks <paramref name="text"/>: <see cref="SyntheticSpeech"/> for it, or the given audio in the stream's codec.</summary>
    public CallerScript Say(string text, byte[]? audio = null) => Add(new SayStep(text, audio));

    public CallerScript Silence(TimeSpan duration) => Add(new SilenceStep(duration));

    /// <summary>Waits until agent audio has played since this step began and the playout has then been idle for <paramref name="quiet"/> (600 ms by default).</summary>
    public CallerScript WaitForAgentToFinish(TimeSpan? quiet = null, TimeSpan? timeout = null) =>
        Add(new WaitForAgentToFinishStep(quiet ?? TimeSpan.FromMilliseconds(600), timeout ?? DefaultTimeout));

    /// <summary>Waits until agent audio has been playing for <paramref name="after"/> (0 by default): the moment to barge in.</summary>
    public CallerScript WaitForAgentSpeech(TimeSpan? after = null, TimeSpan? timeout = null) =>
        Add(new WaitForAgentSpeechStep(after ?? TimeSpan.Zero, timeout ?? DefaultTimeout));

    /// <summary>Sends a <c>dtmf</c> frame for one key: 0-9, *, # or A-D.</summary>
    public CallerScript SendDtmf(string digit) => digit is { Length: 1 } && "0123456789*#ABCD".Contains(digit[0], StringComparison.Ordinal)
        ? Add(new DtmfStep(digit))
        : throw new ArgumentException($"'{digit}' is not a DTMF key", nameof(digit));

    /// <summary>Sends <c>stop</c> and closes the stream.</summary>
    public CallerScript HangUp() => Add(new HangUpStep());

    private CallerScript Add(CallerStep step)
    {
        _steps.Add(step);
        return this;
    }
}

public abstract record CallerStep;

public sealed record SayStep(string Text, byte[]? Audio) : CallerStep;

public sealed record SilenceStep(TimeSpan Duration) : CallerStep;

public sealed record WaitForAgentToFinishStep(TimeSpan Quiet, TimeSpan Timeout) : CallerStep;

public sealed record WaitForAgentSpeechStep(TimeSpan After, TimeSpan Timeout) : CallerStep;

public sealed record DtmfStep(string Digit) : CallerStep;

public sealed record HangUpStep : CallerStep;
