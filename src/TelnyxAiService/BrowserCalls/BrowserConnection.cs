using System.Net.WebSockets;
using System.Text.Json;
using TelnyxAiService.Audio;
using TelnyxAiService.Conversation;
using TelnyxAiService.Recordings;
using TelnyxAiService.Security;

namespace TelnyxAiService.BrowserCalls;

/// <summary>
/// A browser call's socket (<see cref="SocketCallAudio"/> in the browser's dialect): PCM in binary frames both ways,
/// marks, clear and hangup as JSON text frames. The browser's close is the caller hanging up.
/// </summary>
internal sealed class BrowserConnection(WebSocket socket, string callId, FrameClock clock, TimeProvider time, EdgeRefusals refusals, CallRecorder? recorder)
    : SocketCallAudio(socket, AudioFormat.L16At16k, "browser", clock, time, refusals, recorder)
{
    protected override bool CloseIsHangup => true;

    /// <summary>Sends the <c>start</c> frame, before any audio.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => SendAsync(
        new(JsonSerializer.SerializeToUtf8Bytes(new BrowserStart("start", callId, Format.SampleRate, "pcm_s16le"), BrowserJson.Default.BrowserStart), WebSocketMessageType.Text),
        cancellationToken);

    protected override WireFrame AudioMessage(byte[] audio) => new(audio, WebSocketMessageType.Binary);

    protected override WireFrame MarkMessage(string name) => Text(new BrowserMessage("mark", name));

    protected override WireFrame ClearMessage() => Text(new BrowserMessage("clear"));

    /// <summary>Caller audio (binary), a mark played, or hangup (false); anything else is refused and skipped.</summary>
    protected override bool Handle(WebSocketMessageType type, ReadOnlySpan<byte> frame)
    {
        if (type == WebSocketMessageType.Binary)
        {
            HearCaller(frame.ToArray());
            return true;
        }

        BrowserMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(frame, BrowserJson.Default.BrowserMessage);
        }
        catch (JsonException)
        {
            message = null;
        }

        switch (message)
        {
            case { Event: "mark", Name: { } name }:
                Signal(new MarkPlayed(name));
                break;
            case { Event: "hangup" }:
                return false;
            default:
                Refuse("malformed frame");
                break;
        }

        return true;
    }

    private static WireFrame Text(BrowserMessage message) =>
        new(JsonSerializer.SerializeToUtf8Bytes(message, BrowserJson.Default.BrowserMessage), WebSocketMessageType.Text);
}
