namespace TelnyxAiService.Emulators.Telnyx;

public enum CalleeOutcome
{
    /// <summary>The callee picks up after <see cref="CalleeScript.AnswerAfter"/>.</summary>
    Answer,

    /// <summary>call.hangup with hangup_cause user_busy after <see cref="CalleeScript.AnswerAfter"/>.</summary>
    Busy,

    /// <summary>call.hangup with hangup_cause no_answer after <see cref="CalleeScript.AnswerAfter"/>.</summary>
    NoAnswer,
}

/// <summary>
/// How a dialled number behaves. In webhook mode (no stream_url) the callee says <see cref="Lines"/> one at a time as
/// call.transcription events, each after the agent finished talking (speak or playback ended) while transcription is
/// on, and hangs up after the agent's reply to the last line. A callee with no lines stays silent and waits.
/// The caller of an incoming call follows the same <see cref="Lines"/>; the outcome and ring time do not apply to it.
/// </summary>
public sealed record CalleeScript
{
    public CalleeOutcome Outcome { get; init; } = CalleeOutcome.Answer;

    /// <summary>Ring time before the outcome.</summary>
    public TimeSpan AnswerAfter { get; init; } = TimeSpan.FromMilliseconds(50);

    public IReadOnlyList<string> Lines { get; init; } = [];
}

public sealed class TelnyxEmulatorOptions
{
    /// <summary>The API key the REST API accepts as <c>Authorization: Bearer</c>.</summary>
    public string ApiKey { get; init; } = "KEY_EMULATOR";

    /// <summary>32-byte Ed25519 seed for webhook signatures; a fresh key pair is generated when null.</summary>
    public byte[]? SigningKeySeed { get; init; }

    /// <summary>
    /// The connection's webhook URL: used when a dial carries no webhook_url, and where incoming calls are announced
    /// (<see cref="TelnyxEmulator.PlaceInboundCall"/>). <see cref="TelnyxEmulator.DefaultWebhookUrl"/> can change it later.
    /// </summary>
    public Uri? DefaultWebhookUrl { get; init; }

    /// <summary>The Call Control App id incoming calls arrive on (their connection_id).</summary>
    public string ConnectionId { get; init; } = "2811212257810187875";

    public CalleeScript Callee { get; init; } = new();

    /// <summary>Per-number overrides of <see cref="Callee"/>, keyed by the E.164 number dialled.</summary>
    public IReadOnlyDictionary<string, CalleeScript> Callees { get; init; } = new Dictionary<string, CalleeScript>();

    /// <summary>How long a speak lasts per character of its payload.</summary>
    public TimeSpan SpeakTimePerCharacter { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How long a playback lasts once its audio was fetched.</summary>
    public TimeSpan PlaybackDuration { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Pause between the agent finishing and the callee's next line (and its hangup after the last one).</summary>
    public TimeSpan LineDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Send an is_final=false transcription (the first half of the line) before the final one.</summary>
    public bool InterimTranscripts { get; init; } = true;

    /// <summary>Delay between a transfer command and the call.hangup that ends our leg.</summary>
    public TimeSpan TransferHangupDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>When set, an answered call ends with hangup_cause time_limit after this long.</summary>
    public TimeSpan? MaxCallDuration { get; init; }

    /// <summary>When set, more requests than this in one second get 429 (code 10011) with x-ratelimit-* headers.</summary>
    public int? RequestsPerSecond { get; init; }

    /// <summary>Deliver every webhook twice (same event id), as Telnyx sometimes does.</summary>
    public bool DuplicateWebhooks { get; init; }

    /// <summary>When several webhooks of a call are waiting, deliver them pairwise swapped.</summary>
    public bool ReorderWebhooks { get; init; }

    /// <summary>Delivery attempts per webhook while the receiver does not answer 2xx.</summary>
    public int WebhookAttempts { get; init; } = 3;

    public TimeSpan WebhookRetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Client for webhook delivery and audio fetches (e.g. a TestServer's); the emulator owns one when null.</summary>
    public HttpClient? HttpClient { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public int Port { get; init; }
}
