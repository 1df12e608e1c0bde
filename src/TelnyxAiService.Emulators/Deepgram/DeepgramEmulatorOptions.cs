namespace TelnyxAiService.Emulators.Deepgram;

/// <summary>Knobs for <see cref="DeepgramEmulator"/>. Times are audio time (bytes received) unless said otherwise.</summary>
public sealed class DeepgramEmulatorOptions
{
    /// <summary>The key clients must send as <c>Authorization: Token &lt;key&gt;</c>.</summary>
    public string ApiKey { get; init; } = "deepgram-emulator-key";

    /// <summary>
    /// Transcripts shared by all connections, in order: each burst of speech takes the next one (they end up in
    /// <see cref="DeepgramEmulator.Segments"/>, which tests may add to while running). Suits one call, even across
    /// reconnects.
    /// </summary>
    public IReadOnlyList<string> Segments { get; init; } = [];

    /// <summary>
    /// When set, replaces <see cref="Segments"/>: connection k (0-based, in the order they were accepted) reads its own
    /// list in order. Suits several simultaneous calls whose scripts must not interleave.
    /// </summary>
    public Func<int, IReadOnlyList<string>>? ScriptForConnection { get; init; }

    /// <summary>The transcript of a burst of speech when its script is used up.</summary>
    public string DefaultText { get; init; } = "hello";

    /// <summary>RMS level (0 to 32767) from which a 20 ms frame counts as speech.</summary>
    public double SpeechThreshold { get; init; } = SpeechDetector.DefaultThreshold;

    /// <summary>Wall-clock delay added before every final Results (slow finals); later messages wait behind it.</summary>
    public TimeSpan FinalDelay { get; init; }

    /// <summary>Abort connection <see cref="DropOnConnection"/> (no close frame) once it has received this much audio.</summary>
    public TimeSpan? DropConnectionAfter { get; init; }

    /// <summary>Which accepted connection (0-based) <see cref="DropConnectionAfter"/> applies to.</summary>
    public int DropOnConnection { get; init; }

    /// <summary>Handshakes (0-based, counting every request to /v1/listen) answered with HTTP 503.</summary>
    public IReadOnlySet<int> UnavailableHandshakes { get; init; } = new HashSet<int>();

    /// <summary>Wall-clock time without audio or text messages after which the connection closes with 1011 NET-0001.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The loopback port to listen on; 0 picks a free one.</summary>
    public int Port { get; init; }
}
