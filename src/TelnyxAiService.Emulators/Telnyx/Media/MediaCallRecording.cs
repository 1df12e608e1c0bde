using System.Net.WebSockets;
using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.Telnyx.Media;

public enum CallEndReason
{
    /// <summary>The script's <c>HangUp</c> step ran: <c>stop</c> was sent and the stream closed.</summary>
    CallerHungUp,

    /// <summary>The service closed the WebSocket (or the connection dropped).</summary>
    ServerClosed,

    /// <summary>The caller's token was cancelled (the call was ended from outside, e.g. through Call Control).</summary>
    Cancelled,

    /// <summary>A wait step timed out; the caller then hung up. <see cref="MediaCallRecording.TimedOutStep"/> says which.</summary>
    TimedOut,

    /// <summary>The WebSocket handshake failed; <see cref="MediaCallRecording.HandshakeStatusCode"/> has the HTTP status if there was one.</summary>
    ConnectFailed,
}

/// <summary>
/// Everything that happened on one emulated media stream. Times are offsets from the moment the WebSocket opened.
/// </summary>
public sealed record MediaCallRecording
{
    public required string StreamId { get; init; }

    public required EmulatedAudioFormat Format { get; init; }

    public required CallEndReason EndReason { get; init; }

    public CallerStep? TimedOutStep { get; init; }

    public int? HandshakeStatusCode { get; init; }

    /// <summary>How the service closed the socket, when it did.</summary>
    public WebSocketCloseStatus? ServerCloseStatus { get; init; }

    public required TimeSpan Duration { get; init; }

    /// <summary>Number of inbound <c>media</c> frames sent (caller audio and silence).</summary>
    public required int MediaFramesSent { get; init; }

    /// <summary>Each line the caller spoke, with the send times of its first and last media frames.</summary>
    public required IReadOnlyList<CallerLine> CallerLines { get; init; }

    public required IReadOnlyList<DtmfSent> DtmfSent { get; init; }

    /// <summary>Every valid agent <c>media</c> frame, decoded from base64, with its arrival time.</summary>
    public required IReadOnlyList<MediaArrival> Arrivals { get; init; }

    /// <summary>The agent audio that actually played, as utterances (playout runs, cut at each <c>clear</c> and at the end of the call).</summary>
    public required IReadOnlyList<HeardSegment> Heard { get; init; }

    public required IReadOnlyList<TimeSpan> Clears { get; init; }

    public required IReadOnlyList<MarkEcho> MarksEchoed { get; init; }

    public required IReadOnlyList<StreamError> ErrorsSent { get; init; }

    /// <summary>Total agent audio heard.</summary>
    public TimeSpan HeardDuration => Heard.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.AudioDuration);

    /// <summary>The first agent audio arrival after <paramref name="time"/>, e.g. after a caller line's <see cref="CallerLine.End"/>.</summary>
    public MediaArrival? FirstArrivalAfter(TimeSpan time) => Arrivals.FirstOrDefault(a => a.At > time);
}

/// <summary>A caller line: <paramref name="Start"/> and <paramref name="End"/> are when its first and last media frames were sent.</summary>
public sealed record CallerLine(string Text, TimeSpan Start, TimeSpan End);

public sealed record DtmfSent(string Digit, TimeSpan At);

public sealed record MediaArrival(TimeSpan At, byte[] Audio);

/// <summary>
/// One stretch of agent audio that played. Gaps shorter than <see cref="TelnyxMediaCaller.UnderrunTolerance"/> between
/// queued audio do not split a segment, so <see cref="End"/> - <see cref="Start"/> can exceed <see cref="AudioDuration"/>.
/// </summary>
public sealed record HeardSegment(TimeSpan Start, TimeSpan End, byte[] Audio, TimeSpan AudioDuration);

public sealed record MarkEcho(string Name, TimeSpan At);

public sealed record StreamError(int Code, string Title, string Detail, TimeSpan At);
