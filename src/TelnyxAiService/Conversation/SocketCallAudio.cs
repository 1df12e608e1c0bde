using System.Net.WebSockets;
using System.Threading.Channels;
using TelnyxAiService.Audio;
using TelnyxAiService.Recordings;
using TelnyxAiService.Security;

namespace TelnyxAiService.Conversation;

/// <summary>
/// A call's audio over a WebSocket (a Telnyx media stream, a browser call): a receive loop (caller audio and what the
/// far end reports, read by the dialect) and a send loop (agent audio in 20 ms frames paced to real time, a few frames
/// ahead to ride out network jitter, plus marks). When either loop ends the other is cancelled and awaited.
/// </summary>
public abstract partial class SocketCallAudio : ICallAudio
{
    /// <summary>The largest frame read: a 20 ms media frame is under 1 KiB of JSON, a start frame a few.</summary>
    public const int MaxFrameBytes = 64 * 1024;

    /// <summary>How much agent audio may sit in the far end's buffer: what keeps playback smooth, and what a pause cannot stop.</summary>
    private static readonly TimeSpan Lead = TimeSpan.FromMilliseconds(40);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    private readonly WebSocket _socket;
    private readonly TimeProvider _time;
    private readonly string _surface;
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
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private volatile TaskCompletionSource? _paused;

    /// <param name="surface">The edge surface refusals are counted under (<c>media</c>, <c>browser</c>).</param>
    protected SocketCallAudio(WebSocket socket, AudioFormat format, string surface, FrameClock clock, TimeProvider time, EdgeRefusals refusals, CallRecorder? recorder)
    {
        _socket = socket;
        Format = format;
        _surface = surface;
        _clock = clock;
        _time = time;
        _refusals = refusals;
        _recorder = recorder;
        _partial = new byte[format.FrameBytes];
    }

    public AudioFormat Format { get; }

    public ChannelReader<AudioFrame> CallerAudio => _callerAudio.Reader;

    public ChannelReader<CallAudioSignal> Signals => _signals.Reader;

    /// <summary>Whether the far end ended the call (rather than just dropping the connection).</summary>
    public bool Stopped { get; private set; }

    /// <summary>Whether the far end's close frame ends the call as a hangup, or only drops the connection.</summary>
    protected virtual bool CloseIsHangup => false;

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
        await SendAsync(ClearMessage(), cancellationToken);
    }

    /// <summary>Runs the transport and the conversation until either ends; what either throws is logged here, once.</summary>
    public async Task ConverseAsync(CallSession session, ConversationServices conversations, CancellationTokenSource cts, ILogger logger)
    {
        var transport = RunAsync(cts.Token);
        var conversation = conversations.ConverseAsync(session, this, cts.Token);
        var both = Task.WhenAll(transport, conversation);
        await Task.WhenAny(transport, conversation);
        await cts.CancelAsync();
        try
        {
            await both;
        }
        catch (Exception) when (both.Exception is { } crash)
        {
            LogStreamCrashed(logger, session.CallId, crash);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Runs both loops until the far end stops, the socket closes or <paramref name="cancellationToken"/> fires, then
    /// closes the socket with a proper close handshake. Socket calls never take the token: cancelling a pending
    /// WebSocket receive or send aborts the connection, and the far end would see a reset instead of a close.
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

    /// <summary>One agent audio frame as the far end takes it.</summary>
    protected abstract WireFrame AudioMessage(byte[] audio);

    /// <summary>A mark, which the far end reports back once the audio before it has played.</summary>
    protected abstract WireFrame MarkMessage(string name);

    /// <summary>Tells the far end to drop the agent audio it has buffered.</summary>
    protected abstract WireFrame ClearMessage();

    /// <summary>Handles one whole frame from the far end (text or binary); false when it ended the call.</summary>
    protected abstract bool Handle(WebSocketMessageType type, ReadOnlySpan<byte> frame);

    /// <summary>Counts a frame refused on this surface.</summary>
    protected void Refuse(string reason) => _refusals.Refuse(_surface, reason);

    protected void Signal(CallAudioSignal signal) => _signals.Writer.TryWrite(signal);

    /// <summary>The caller's audio in <see cref="Format"/>, cut into 20 ms frames; refused unless it is whole samples.</summary>
    protected void HearCaller(byte[] payload)
    {
        if (payload.Length % Format.BytesPerSample != 0)
        {
            Refuse("media payload is not whole samples");
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

    protected async Task SendAsync(WireFrame frame, CancellationToken ct)
    {
        await _sending.WaitAsync(ct);
        try
        {
            await _socket.SendAsync(frame.Data, frame.Type, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Reads one whole message into <paramref name="buffer"/>; its length, or -1 when it does not fit.</summary>
    /// <remarks>Takes no token: cancelling a pending WebSocket receive aborts the connection.</remarks>
    protected static async Task<(WebSocketMessageType Type, int Length)> ReceiveFrameAsync(WebSocket socket, byte[] buffer)
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
    /// Sends our close frame (unless the socket is already gone) and waits, boundedly, for the far end's: the receive
    /// loop sees it, or, when that loop already ended, it is read here. Aborts on timeout.
    /// </summary>
    protected static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string description, Task receiving, TimeProvider time, SemaphoreSlim? sending = null)
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

    /// <summary>
    /// Reads frames until the far end ends the call or closes, or a frame over <see cref="MaxFrameBytes"/> (which
    /// closes the connection as too big). What the dialect refuses is skipped: one stray frame never ends a live call.
    /// </summary>
    private async Task ReceiveAsync()
    {
        var buffer = new byte[MaxFrameBytes];
        while (true)
        {
            var (type, length) = await ReceiveFrameAsync(_socket, buffer);
            if (type == WebSocketMessageType.Close)
            {
                Stopped = CloseIsHangup;
                return;
            }

            if (length < 0)
            {
                Refuse("frame too big");
                _closeStatus = WebSocketCloseStatus.MessageTooBig;
                return;
            }

            if (!Handle(type, buffer.AsSpan(0, length)))
            {
                Stopped = true;
                Signal(new StreamStopped());
                return;
            }
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
                await SendAsync(MarkMessage(mark), ct);
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
                Signal(new AgentAudioStarted(now));
            }

            while (next - Lead > _time.GetUtcNow())
            {
                await _clock.NextTickAsync(ct);
            }

            await SendAsync(AudioMessage(item.Audio!), ct);
            _recorder?.RecordAgent(new AudioFrame(Format, item.Audio!));
            next += frame;
        }
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId}: the media stream failed unexpectedly")]
    private static partial void LogStreamCrashed(ILogger logger, string callId, Exception exception);

    /// <summary>A frame to send: its bytes and whether it is text or binary.</summary>
    protected readonly record struct WireFrame(byte[] Data, WebSocketMessageType Type);

    private sealed record Outbound(byte[]? Audio, string? Mark, int Generation);
}
