using System.Threading.Channels;
using TelnyxAiService.Audio;
using TelnyxAiService.Conversation;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>
/// The call's audio as the timeline plays it: the caller's frames go in as the script says, and the agent's queued
/// audio "plays" one 20 ms frame a tick (unless paused), echoing each mark once the audio before it has played, as
/// Telnyx does. What played is written to the <see cref="TimelineLog"/>.
/// </summary>
internal sealed class FakeCallAudio(TimelineLog log) : ICallAudio
{
    /// <summary>Frames the agent may queue ahead, as the real connection's queue (2 s).</summary>
    private const int QueueFrames = 100;

    private static readonly byte[] Voice = Tone(amplitude: 8000);
    private static readonly byte[] Quiet = Tone(amplitude: 8);

    private readonly InlineChannel<AudioFrame> _caller = new();
    private readonly InlineChannel<CallAudioSignal> _signals = new();
    private readonly Queue<(byte[]? Frame, string? Mark)> _queue = new();
    private int _queuedFrames;
    private TaskCompletionSource? _room;
    private bool _paused;
    private bool _idle = true;

    public AudioFormat Format => AudioFormat.Pcmu8k;

    public ChannelReader<AudioFrame> CallerAudio => _caller;

    public ChannelReader<CallAudioSignal> Signals => _signals;

    public async ValueTask SendAudioAsync(ReadOnlyMemory<byte> audio, CancellationToken cancellationToken)
    {
        Assert.Equal(0, audio.Length % Format.FrameBytes);
        for (var offset = 0; offset < audio.Length; offset += Format.FrameBytes)
        {
            while (_queuedFrames >= QueueFrames)
            {
                _room ??= new TaskCompletionSource();
                await _room.Task.WaitAsync(cancellationToken);
            }

            _queue.Enqueue((audio.Slice(offset, Format.FrameBytes).ToArray(), null));
            _queuedFrames++;
        }
    }

    public ValueTask SendMarkAsync(string name, CancellationToken cancellationToken)
    {
        _queue.Enqueue((null, name));
        return ValueTask.CompletedTask;
    }

    public void Pause()
    {
        if (!_paused)
        {
            _paused = true;
            log.Add("pause");
        }
    }

    public void Resume()
    {
        if (_paused)
        {
            _paused = false;
            log.Add("resume");
        }
    }

    public Task ClearAsync(CancellationToken cancellationToken)
    {
        _queue.Clear();
        _queuedFrames = 0;
        _idle = true;
        WakeSender();
        log.Add("clear");
        return Task.CompletedTask;
    }

    /// <summary>The caller's audio for the 20 ms that just passed: voice our detector hears, or line noise.</summary>
    public void HearCaller(bool voice) => _caller.Write(new AudioFrame(Format, voice ? Voice : Quiet));

    public void Signal(CallAudioSignal signal) => _signals.Write(signal);

    /// <summary>Plays the next 20 ms of agent audio, starting now; marks reached by then are echoed first.</summary>
    public void Play(DateTimeOffset now)
    {
        EchoReachedMarks();
        if (_paused || !_queue.TryPeek(out var next) || next.Frame is not { } frame)
        {
            _idle = true;
            return;
        }

        if (_idle)
        {
            _idle = false;
            Signal(new AgentAudioStarted(now));
        }

        _queue.Dequeue();
        _queuedFrames--;
        WakeSender();
        log.Played(frame[0]);
    }

    private void EchoReachedMarks()
    {
        while (_queue.TryPeek(out var next) && next.Mark is { } mark)
        {
            _queue.Dequeue();
            log.Add($"mark {mark}");
            Signal(new MarkPlayed(mark));
        }
    }

    private void WakeSender()
    {
        // Cleared first: the sender may run inline here and need a new wait.
        var room = _room;
        _room = null;
        room?.TrySetResult();
    }

    /// <summary>A 20 ms 400 Hz tone in PCMU; loud enough is speech to our detector, 8 is the line's hiss.</summary>
    private static byte[] Tone(int amplitude)
    {
        var samples = new short[160];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (short)(amplitude * Math.Sin(2 * Math.PI * 400 * i / 8000));
        }

        var frame = new byte[160];
        G711.EncodeMuLaw(samples, frame);
        return frame;
    }
}
