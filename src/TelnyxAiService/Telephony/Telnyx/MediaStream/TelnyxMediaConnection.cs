using System.Net.WebSockets;
using TelnyxAiService.Audio;
using TelnyxAiService.Conversation;
using TelnyxAiService.Recordings;
using TelnyxAiService.Security;

namespace TelnyxAiService.Telephony.Telnyx.MediaStream;

/// <summary>
/// One Telnyx media stream (<see cref="SocketCallAudio"/> in Telnyx's dialect): caller audio, marks, digits and stop
/// in JSON text frames; agent audio out as base64 <c>media</c> frames.
/// </summary>
public sealed partial class TelnyxMediaConnection(WebSocket socket, AudioFormat format, string callId, FrameClock clock, TimeProvider time, EdgeRefusals refusals, ILogger logger, CallRecorder? recorder = null)
    : SocketCallAudio(socket, format, "media", clock, time, refusals, recorder)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(5);

    private long _lastSequence = long.MinValue;

    /// <summary>
    /// Reads frames until <c>start</c> (skipping <c>connected</c>); null when the stream does not start properly or the
    /// connection drops first. A stream that sends no start within <see cref="StartTimeout"/> is closed with a policy
    /// violation here.
    /// </summary>
    public static async Task<StreamStart?> ReadStartAsync(WebSocket socket, TimeProvider time, CancellationToken cancellationToken)
    {
        var reading = ReadStartFramesAsync(socket);
        try
        {
            return await reading.WaitAsync(StartTimeout, time, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            await CloseAsync(socket, WebSocketCloseStatus.PolicyViolation, "no start", reading, time);
            return null;
        }
        catch (WebSocketException)
        {
            return null;
        }
    }

    /// <summary>Closes a stream that did not start properly, unless it is already gone.</summary>
    public static Task RefuseAsync(WebSocket socket, TimeProvider time) =>
        CloseAsync(socket, WebSocketCloseStatus.PolicyViolation, "bad start", Task.CompletedTask, time);

    protected override WireFrame AudioMessage(byte[] audio) => new(MediaStreamMessage.Media(audio), WebSocketMessageType.Text);

    protected override WireFrame MarkMessage(string name) => new(MediaStreamMessage.Mark(name), WebSocketMessageType.Text);

    protected override WireFrame ClearMessage() => new(MediaStreamMessage.Clear(), WebSocketMessageType.Text);

    /// <summary>Routes one frame from Telnyx; false on <c>stop</c>. Telnyx only sends text: a binary frame is refused.</summary>
    protected override bool Handle(WebSocketMessageType type, ReadOnlySpan<byte> frame)
    {
        if (type != WebSocketMessageType.Text)
        {
            Refuse("binary frame");
            return true;
        }

        if (!MediaStreamMessage.TryParse(frame, out var message, out _))
        {
            Refuse("malformed frame");
            return true;
        }

        switch (message)
        {
            case StreamMedia { SequenceNumber: { } sequence } when sequence <= _lastSequence:
                Refuse("media out of order");
                break;
            case StreamMedia media:
                _lastSequence = media.SequenceNumber ?? _lastSequence;
                if (media.Track == "inbound")
                {
                    HearCaller(media.Payload);
                }

                break;
            case StreamDtmf dtmf:
                Signal(new DigitReceived(dtmf.Digit));
                break;
            case StreamMark mark:
                Signal(new MarkPlayed(mark.Name));
                break;
            case StreamError error:
                LogStreamError(logger, callId, error.Code, LogText.Escape(error.Title), LogText.Escape(error.Detail));
                break;
            case StreamStop:
                return false;
        }

        return true;
    }

    private static async Task<StreamStart?> ReadStartFramesAsync(WebSocket socket)
    {
        var buffer = new byte[MaxFrameBytes];
        for (var frames = 0; frames < 8; frames++)
        {
            var (type, length) = await ReceiveFrameAsync(socket, buffer);
            if (type == WebSocketMessageType.Close || length < 0)
            {
                return null;
            }

            if (type == WebSocketMessageType.Text && MediaStreamMessage.TryParse(buffer.AsSpan(0, length), out var message, out _) && message is StreamStart start)
            {
                return start;
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: Telnyx stream error {Code} {Title}: {Detail}")]
    private static partial void LogStreamError(ILogger logger, string callId, int code, string title, string detail);
}
