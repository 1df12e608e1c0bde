namespace TelnyxAiService.Telephony;

/// <summary>Commands to the telephony provider (Telnyx Call Control v2). Every command is idempotent by command id.</summary>
public interface ICallControl
{
    /// <summary>Places a call. Repeating a request with the same <see cref="DialRequest.CommandId"/> never places two calls.</summary>
    Task<DialResult> DialAsync(DialRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Answers a parked incoming call: <paramref name="callId"/> becomes its <c>client_state</c> and the command id, so
    /// a repeated answer has no effect. With <paramref name="stream"/>, Telnyx opens the media stream on answer.
    /// </summary>
    Task AnswerAsync(string callControlId, string callId, MediaStreamRequest? stream, CancellationToken cancellationToken);

    /// <summary>
    /// Opens a new bidirectional media stream on a live, answered call, e.g. after another instance's stream was lost:
    /// Telnyx keeps the call up when the stream drops and connects the new stream to <paramref name="stream"/>'s URL.
    /// Repeating the same <paramref name="commandId"/> has no effect.
    /// </summary>
    Task StartStreamingAsync(string callControlId, MediaStreamRequest stream, string commandId, CancellationToken cancellationToken);

    Task SpeakAsync(string callControlId, string text, string language, CancellationToken cancellationToken);

    Task StartTranscriptionAsync(string callControlId, string language, CancellationToken cancellationToken);

    Task StopTranscriptionAsync(string callControlId, CancellationToken cancellationToken);

    Task StartPlaybackAsync(string callControlId, Uri audioUrl, CancellationToken cancellationToken);

    Task TransferAsync(string callControlId, string to, CancellationToken cancellationToken);

    /// <summary>Asks whether a call is still up; a call the provider no longer knows counts as ended.</summary>
    Task<CallState> GetCallAsync(string callControlId, CancellationToken cancellationToken);

    /// <summary>Hangs up; a call that has already ended counts as success.</summary>
    Task HangupAsync(string callControlId, CancellationToken cancellationToken);
}

/// <param name="To">E.164 number to call.</param>
/// <param name="CallId">Our call id, carried in <c>client_state</c> and echoed in every webhook.</param>
/// <param name="CommandId">Idempotency key for the dial.</param>
/// <param name="Stream">When set, Telnyx opens a bidirectional media stream to us on answer.</param>
public sealed record DialRequest(string To, string CallId, string CommandId, MediaStreamRequest? Stream);

/// <param name="Url">Our wss://…/stream/media URL.</param>
/// <param name="AuthToken">Per-call secret the stream must present.</param>
/// <param name="Codec">Telnyx codec name for both directions (PCMU, PCMA, L16).</param>
/// <param name="SampleRate">Bidirectional sampling rate (8000 or 16000).</param>
public sealed record MediaStreamRequest(Uri Url, string AuthToken, string Codec, int SampleRate);

public sealed record DialResult(string CallControlId, string CallLegId, string CallSessionId);

public sealed record CallState(bool IsAlive);
