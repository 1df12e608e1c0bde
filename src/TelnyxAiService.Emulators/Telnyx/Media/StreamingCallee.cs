using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.Telnyx.Media;

/// <summary>
/// What the Telnyx emulator does when a call dialled with a <c>stream_url</c> is answered, and again on each
/// <c>streaming_start</c>, as Telnyx does: announce <c>streaming.started</c>, connect to the stream and play the scripted
/// caller, then <c>streaming.stopped</c> (or <c>streaming.failed</c> when the connection is refused), and hang up when
/// the caller does. When the service closes the stream the call stays up, as at Telnyx, so a new stream can resume it.
/// </summary>
public sealed class StreamingCallee(Func<EmulatedCall, CallerScript> script, TimeSpan? inboundChunk = null)
{
    private readonly ConcurrentDictionary<(string CallControlId, int Stream), MediaCallRecording> _recordings = new();

    /// <summary>Each finished stream's recording by call_control_id, in the order the call's streams were started.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<MediaCallRecording>> Recordings =>
        _recordings.GroupBy(r => r.Key.CallControlId).ToDictionary(
            call => call.Key,
            call => (IReadOnlyList<MediaCallRecording>)[.. call.OrderBy(r => r.Key.Stream).Select(r => r.Value)],
            StringComparer.Ordinal);

    public async Task RunAsync(EmulatedCall call, CancellationToken cancellationToken)
    {
        var stream = call.StreamsStarted;
        var settings = new MediaCallSettings
        {
            StreamUrl = call.StreamUrl!,
            AuthToken = call.StreamAuthToken,
            CallControlId = call.CallControlId,
            CallSessionId = call.CallSessionId,
            ClientState = call.ClientState,
            From = call.From,
            To = call.To,
            Format = new EmulatedAudioFormat(call.StreamBidirectionalCodec ?? call.StreamCodec ?? "PCMU", call.StreamSampleRate),
            InboundChunk = inboundChunk ?? TimeSpan.FromMilliseconds(20),
        };
        var streamUrl = new Dictionary<string, JsonNode?> { ["stream_url"] = settings.StreamUrl.ToString() };
        await call.SendEventAsync("streaming.started", streamUrl, cancellationToken);
        var recording = await TelnyxMediaCaller.RunAsync(settings, script(call), cancellationToken);
        _recordings[(call.CallControlId, stream)] = recording;
        if (recording.EndReason == CallEndReason.ConnectFailed)
        {
            await call.SendEventAsync("streaming.failed", new Dictionary<string, JsonNode?> { ["failure_reason"] = "connection_failed", ["stream_type"] = "websocket" }, CancellationToken.None);
            return;
        }

        await call.SendEventAsync("streaming.stopped", streamUrl, CancellationToken.None);
        if (recording.EndReason == CallEndReason.CallerHungUp)
        {
            await call.CalleeHangUpAsync("normal_clearing", CancellationToken.None);
        }
    }

    /// <summary>Waits for the recording of a call's first stream (the caller's script finished or the call ended).</summary>
    public Task<MediaCallRecording> WaitForRecordingAsync(string callControlId, TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitForRecordingAsync(callControlId, 1, timeout, cancellationToken);

    /// <summary>Waits for the recording of one of a call's streams.</summary>
    /// <param name="stream">1 for the stream opened on answer, 2 for the first <c>streaming_start</c>'s, and so on (<see cref="EmulatedCall.StreamsStarted"/>).</param>
    public async Task<MediaCallRecording> WaitForRecordingAsync(string callControlId, int stream, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        while (!_recordings.ContainsKey((callControlId, stream)))
        {
            await Task.Delay(20, cts.Token);
        }

        return _recordings[(callControlId, stream)];
    }
}
