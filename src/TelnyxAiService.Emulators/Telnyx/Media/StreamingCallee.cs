using System.Collections.Concurrent;
using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.Telnyx.Media;

/// <summary>
/// What the Telnyx emulator does when a call dialled with a <c>stream_url</c> is answered, as Telnyx does: announce
/// <c>streaming.started</c>, connect to the stream and play the scripted caller, then <c>streaming.stopped</c> (or
/// <c>streaming.failed</c> when the connection is refused), and hang up when the caller does.
/// </summary>
public sealed class StreamingCallee(Func<EmulatedCall, CallerScript> script, TimeSpan? inboundChunk = null)
{
    private readonly ConcurrentDictionary<string, MediaCallRecording> _recordings = new(StringComparer.Ordinal);

    /// <summary>Each finished call's recording, by call_control_id.</summary>
    public IReadOnlyDictionary<string, MediaCallRecording> Recordings => _recordings;

    public async Task RunAsync(EmulatedCall call, CancellationToken cancellationToken)
    {
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
        var streamUrl = new Dictionary<string, object?> { ["stream_url"] = call.StreamUrl!.ToString() };
        await call.SendEventAsync("streaming.started", streamUrl, cancellationToken);
        var recording = await TelnyxMediaCaller.RunAsync(settings, script(call), cancellationToken);
        _recordings[call.CallControlId] = recording;
        if (recording.EndReason == CallEndReason.ConnectFailed)
        {
            await call.SendEventAsync("streaming.failed", new Dictionary<string, object?> { ["failure_reason"] = "connection_failed", ["stream_type"] = "websocket" }, CancellationToken.None);
            return;
        }

        await call.SendEventAsync("streaming.stopped", streamUrl, CancellationToken.None);
        if (recording.EndReason == CallEndReason.CallerHungUp)
        {
            await call.CalleeHangUpAsync("normal_clearing", CancellationToken.None);
        }
    }

    /// <summary>Waits for a call's recording (the caller's script finished or the call ended).</summary>
    public async Task<MediaCallRecording> WaitForRecordingAsync(string callControlId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        while (!_recordings.ContainsKey(callControlId))
        {
            await Task.Delay(20, cts.Token);
        }

        return _recordings[callControlId];
    }
}
