using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.Telnyx.Media;

/// <summary>What Telnyx knows about a call when it opens the media stream to the call's <c>stream_url</c>.</summary>
public sealed record MediaCallSettings
{
    /// <summary>The <c>stream_url</c>, used exactly as given (query string included).</summary>
    public required Uri StreamUrl { get; init; }

    /// <summary>Sent as the <c>x-telnyx-streaming-auth-token</c> handshake header when set.</summary>
    public string? AuthToken { get; init; }

    public string CallControlId { get; init; } = "v2:" + Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=');

    public string CallSessionId { get; init; } = Guid.NewGuid().ToString();

    public string UserId { get; init; } = "3E6F995F-85F7-4705-9741-53B116D28237";

    public string? ClientState { get; init; }

    public string From { get; init; } = "+13122010094";

    public string To { get; init; } = "+13122123456";

    /// <summary>The stream's codec, in both directions: PCMU 8k, PCMA 8k or L16 16k.</summary>
    public EmulatedAudioFormat Format { get; init; } = EmulatedAudioFormat.Pcmu8k;

    /// <summary>How much caller audio each inbound <c>media</c> frame carries (Telnyx does not document it).</summary>
    public TimeSpan InboundChunk { get; init; } = TimeSpan.FromMilliseconds(20);
}
