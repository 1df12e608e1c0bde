using System.Net.WebSockets;
using System.Threading.Channels;
using TelnyxAiService.Audio;
using TelnyxAiService.Conversation;
using TelnyxAiService.Recordings;
using TelnyxAiService.Security;

namespace TelnyxAiService.Telephony.Telnyx.MediaStream;

/// <summary>
/// One Telnyx media stream: a receive loop (caller audio, marks, digits, stop) and a send loop (agent audio in 20 ms
/// frames paced to real time, a few frames ahead to ride out network jitter, plus marks). When either loop ends the
/// other is cancelled and awaited.
/// </summary>
public sealed partial class TelnyxMediaConnection : ICallAudio
{
    /// <summary>How much agent audio may sit in Telnyx's buffer: what keeps playback smooth, and what a pause cannot stop.</summary>
    private static readonly TimeSpan Lead = TimeSpan.FromMilliseconds(40);
    /// <summary>The largest frame read: a 20 ms media frame is under 1 KiB of JSON, a start frame a few.</summary>
    public const int MaxFrameBytes = 64 * 1024;
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _callId;
    private readonly CallRecorder? _recorder;
    private readonly EdgeRefusals _refusals;
    private readonly FrameClock _clock;
    private readonly Channel<AudioFrame> _callerAudio = Channel.CreateBounded<AudioFrame>(new BoundedChannelOptions(250) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
    private readonly Channel<CallAudioSignal> _signals = Channel.CreateBounded<CallAudioSignal>(new BoundedChannelOptions(256) { SingleReader = true });
    private readonly Channel<Outbound> _agentAudio = Channel.CreateBounded<Outbound>(new BoundedChannelOptions(100) { SingleReader = true });
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly byte[] _partial;
    private int _partialLength;
    private int _generation;
    private long _lastSequence = long.MinValue;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private volatile TaskCompletionSource? _paused;

    public TelnyxMediaConnection(WebSocket socket, AudioFormat format, string callId, FrameClock clock, TimeProvider time, EdgeRefusals refusals, ILogger logger, CallRecorder? recorder = null)
    {
        _refusals = refusals;
        _clock = clock;
        _recorder = recorder;
        _socket = socket;
        Format = format;
        _callId = callId;
        _time = time;
        _logger = logger;
        _partial = new byte[format.FrameBytes];
    }

    public AudioFormat Format { get; }

    public ChannelReader<AudioFrame> CallerAudio => _callerAudio.Reader;

    public ChannelReader<CallAudioSignal> Signals => _signals.Reader;

    /// <summary>Whether the far end sent <c>stop</c> (the call is over) rather than just dropping the connection.</summary>
    public bool Stopped { get; private set; }

    public async ValueTask SendAudioAsync(ReadOnlyMemory<byte> audio, CancellationToken cancellationToken)
    {
        var frameBytes = _partial.Length;
        while (!audio.IsEmpty)
        {
            var take = Math.Min(frameBytes - _partialLength, audio.Length);
            audio.Span[..take].CopyTo(_partial.AsSpan(_partialLength));
            _partialLength += take;
            audio = audio[take..];
            if (_partialLength == frameBytes)
            {
                await _agentAudio.Writer.WriteAsync(new Outbound(_partial.ToArray(), null, Volatile.Read(ref _generation)), cancellationToken);
                _partialLength = 0;
            }
        }
    }

    public async ValueTask SendMarkAsync(string name, CancellationToken cancellationToken)
    {
        var generation = Volatile.Read(ref _generation);
        if (_partialLength > 0)
        {
            _partial.AsSpan(_partialLength).Fill(SilenceByte(Format.Encoding));
            await _agentAudio.Writer.WriteAsync(new Outbound(_partial.ToArray(), null, generation), cancellationToken);
            _partialLength = 0;
        }

        await _agentAudio.Writer.WriteAsync(new Outbound(null, name, generation), cancellationToken);
    }

    public void Pause() => Interlocked.CompareExchange(ref _paused, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);

    public void Resume() => Interlocked.Exchange(ref _paused, null)?.TrySetResult();

    public async Task ClearAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _generation);
        while (_agentAudio.Reader.TryRead(out _))
        {
        }

        _partialLength = 0;
        await SendAsync(MediaStreamMessage.Clear(), cancellationToken);
    }

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

    /// <summary>Reads one whole message into <paramref name="buffer"/>; its length, or -1 when it does not fit.</summary>
    /// <remarks>Takes no token: cancelling a pending WebSocket receive aborts the connection.</remarks>
    private static async Task<(WebSocketMessageType Type, int Length)> ReceiveFrameAsync(WebSocket socket, byte[] buffer)
    {
        var length = 0;
        while (length < buffer.Length)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
            length += result.Count;
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close)
            {
                return (result.MessageType, length);
            }
        }

        return (WebSocketMessageType.Text, -1);
    }

    /// <summary>
    /// Runs both loops until the stream stops, the socket closes or <paramref name="cancellationToken"/> fires, then
    /// closes the socket with a proper close handshake. Socket calls never take the token: cancelling a pending
    /// WebSocket receive or send aborts the connection, and Telnyx would see a reset instead of a close.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = cancellationToken.Register(() => cancelled.TrySetResult());
        var receiving = ReceiveAsync();
        var sending = SendLoopAsync(cts.Token);
        await Task.WhenAny(receiving, sending, cancelled.Task);
        await cts.CancelAsync();
        await Quiet(sending);
        _callerAudio.Writer.TryComplete();
        _signals.Writer.TryComplete();
        await CloseAsync(_socket, _closeStatus, _closeStatus == WebSocketCloseStatus.NormalClosure ? "call ended" : "frame too big", receiving, _time, _sending);
    }

    /// <summary>
    /// Reads frames until <c>stop</c>, the far end's close, or a frame over <see cref="MaxFrameBytes"/> (which closes
    /// the stream as too big). Malformed frames are skipped and counted. So are binary frames: Telnyx only sends text,
    /// and one stray frame should not end a live call.
    /// </summary>
    private async Task ReceiveAsync()
    {
        var buffer = new byte[MaxFrameBytes];
        while (true)
        {
            var (type, length) = await ReceiveFrameAsync(_socket, buffer);
            if (type == WebSocketMessageType.Close)
            {
                return;
            }

            if (length < 0)
            {
                _refusals.Refuse("media", "frame too big");
                _closeStatus = WebSocketCloseStatus.MessageTooBig;
                return;
            }

            if (type != WebSocketMessageType.Text)
            {
                _refusals.Refuse("media", "binary frame");
                continue;
            }

            if (!MediaStreamMessage.TryParse(buffer.AsSpan(0, length), out var parsed, out _))
            {
                _refusals.Refuse("media", "malformed frame");
                continue;
            }

            if (!Handle(parsed))
            {
                Stopped = true;
                _signals.Writer.TryWrite(new StreamStopped());
                return;
            }
        }
    }

    /// <summary>Routes one frame from Telnyx; false on <c>stop</c>.</summary>
    private bool Handle(MediaStreamMessage message)
    {
        switch (message)
        {
            case StreamMedia { SequenceNumber: { } sequence } when sequence <= _lastSequence:
                _refusals.Refuse("media", "media out of order");
                break;
            case StreamMedia media:
                _lastSequence = media.SequenceNumber ?? _lastSequence;
                if (media.Track == "inbound")
                {
                    HearCaller(media.Payload);
                }

                break;
            case StreamDtmf dtmf:
                _signals.Writer.TryWrite(new DigitReceived(dtmf.Digit));
                break;
            case StreamMark mark:
                _signals.Writer.TryWrite(new MarkPlayed(mark.Name));
                break;
            case StreamError error:
                LogStreamError(_callId, error.Code, LogText.Escape(error.Title), LogText.Escape(error.Detail));
                break;
            case StreamStop:
                return false;
        }

        return true;
    }

    private void HearCaller(byte[] payload)
    {
        if (payload.Length % Format.BytesPerSample != 0)
        {
            _refusals.Refuse("media", "media payload is not whole samples");
            return;
        }

        for (var offset = 0; offset < payload.Length; offset += Format.FrameBytes)
        {
            var size = Math.Min(Format.FrameBytes, payload.Length - offset);
            var frame = new AudioFrame(Format, payload.AsMemory(offset, size));
            _recorder?.RecordCaller(frame);
            _callerAudio.Writer.TryWrite(frame);
        }
    }

    private async Task SendLoopAsync(CancellationToken ct)
    {
        var frame = AudioFormat.FrameDuration;
        var next = _time.GetUtcNow();
        var idle = true;
        while (true)
        {
            if (!_agentAudio.Reader.TryRead(out var item))
            {
                idle = true;
                item = await _agentAudio.Reader.ReadAsync(ct);
            }

            if (_paused is { } paused)
            {
                await paused.Task.WaitAsync(ct);
                idle = true;
            }

            if (item.Generation != Volatile.Read(ref _generation))
            {
                continue;
            }

            if (item.Mark is { } mark)
            {
                await SendAsync(MediaStreamMessage.Mark(mark), ct);
                continue;
            }

            var now = _time.GetUtcNow();
            if (idle || next < now - Lead)
            {
                // After a silence, or when this loop fell behind (a stall), pace from now rather than burst to catch up.
                next = now;
            }

            if (idle)
            {
                idle = false;
                _signals.Writer.TryWrite(new AgentAudioStarted(now));
            }

            while (next - Lead > _time.GetUtcNow())
            {
                await _clock.NextTickAsync(ct);
            }

            await SendAsync(MediaStreamMessage.Media(item.Audio), ct);
            _recorder?.RecordAgent(new AudioFrame(Format, item.Audio!));
            next += frame;
        }
    }

    private async Task SendAsync(byte[] json, CancellationToken ct)
    {
        await _sending.WaitAsync(ct);
        try
        {
            await _socket.SendAsync(json, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>
    /// Sends our close frame (unless the socket is already gone) and waits, boundedly, for the far end's: the receive
    /// loop sees it, or, when that loop already ended, it is read here. Aborts on timeout.
    /// </summary>
    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string description, Task receiving, TimeProvider time, SemaphoreSlim? sending = null)
    {
        using var timeout = new CancellationTokenSource(CloseTimeout, time);
        try
        {
            if (sending is not null)
            {
                await sending.WaitAsync(timeout.Token);
            }

            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(status, description, timeout.Token);
                }
            }
            finally
            {
                sending?.Release();
            }

            if (!receiving.IsCompleted)
            {
                await receiving.WaitAsync(timeout.Token);
            }

            var buffer = new byte[4096];
            while (socket.State == WebSocketState.CloseSent)
            {
                await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            socket.Abort();
        }

        await Quiet(receiving);
    }

    private static async Task Quiet(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ChannelClosedException)
        {
        }
    }

    private static byte SilenceByte(AudioEncoding encoding) => encoding switch
    {
        AudioEncoding.Pcmu => 0xFF,
        AudioEncoding.Pcma => 0xD5,
        _ => 0x00,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: Telnyx stream error {Code} {Title}: {Detail}")]
    private partial void LogStreamError(string callId, int code, string title, string detail);

    private sealed record Outbound(byte[]? Audio, string? Mark, int Generation);
}
