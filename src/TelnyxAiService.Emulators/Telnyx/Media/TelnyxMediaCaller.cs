using System.Diagnostics;
using System.Net.WebSockets;
using System.Threading.Channels;
using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.Telnyx.Media;

/// <summary>
/// The Telnyx side of a media stream, played by a scripted caller: what Telnyx does when a call with a
/// <c>stream_url</c> is answered. It connects to the service, sends <c>connected</c>, <c>start</c> and then
/// <c>media</c> frames in real time (the script's speech, silence otherwise), plays the agent's audio on a real-time
/// playout clock, echoes marks, honours <c>clear</c>, and answers malformed frames with <c>error</c> frames.
/// </summary>
public sealed class TelnyxMediaCaller
{
    /// <summary>Gaps shorter than this between agent audio count as one utterance (network jitter, not a pause).</summary>
    public static readonly TimeSpan UnderrunTolerance = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan WaitPollInterval = TimeSpan.FromMilliseconds(10);

    private readonly MediaCallSettings _settings;
    private readonly CallerScript _script;
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Stopwatch _clock = new();
    private readonly Playout _playout;
    private readonly SemaphoreSlim _markAdded = new(0);
    private readonly Channel<CallerAudio> _callerAudio = Channel.CreateBounded<CallerAudio>(1);
    private readonly List<CallerLine> _lines = [];
    private readonly List<DtmfSent> _dtmf = [];
    private readonly List<MediaArrival> _arrivals = [];
    private readonly List<MarkEcho> _marks = [];
    private readonly List<StreamError> _errors = [];
    private readonly string _streamId = Guid.NewGuid().ToString().ToUpperInvariant();
    private long _sequence;
    private int _mediaFramesSent;
    private WebSocketCloseStatus? _serverCloseStatus;

    private TelnyxMediaCaller(MediaCallSettings settings, CallerScript script)
    {
        _settings = settings;
        _script = script;
        _playout = new Playout(settings.Format, UnderrunTolerance);
    }

    private TimeSpan Now => _clock.Elapsed;

    /// <summary>Runs one call to the end: the script hangs up or times out, the service closes, or <paramref name="cancellationToken"/> fires (then the caller sends <c>stop</c> and closes, as Telnyx does at hangup).</summary>
    public static async Task<MediaCallRecording> RunAsync(MediaCallSettings settings, CallerScript script, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(script);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(settings.InboundChunk, TimeSpan.Zero);
        var caller = new TelnyxMediaCaller(settings, script);
        try
        {
            return await caller.RunAsync(cancellationToken);
        }
        finally
        {
            caller._socket.Dispose();
            caller._sendLock.Dispose();
            caller._markAdded.Dispose();
        }
    }

    private async Task<MediaCallRecording> RunAsync(CancellationToken cancellationToken)
    {
        if (_settings.AuthToken is { } token)
        {
            _socket.Options.SetRequestHeader("x-telnyx-streaming-auth-token", token);
        }

        _socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await _socket.ConnectAsync(_settings.StreamUrl, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Recording(CallEndReason.Cancelled, null);
        }
        catch (WebSocketException)
        {
            return Recording(CallEndReason.ConnectFailed, null);
        }

        _clock.Start();
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var media = CancellationTokenSource.CreateLinkedTokenSource(call.Token);
        var receiving = ReceiveAsync();
        var sending = Task.CompletedTask;
        var echoing = Task.CompletedTask;
        Task<ScriptOutcome>? scripted = null;
        try
        {
            await SendAsync(MediaStreamFrames.Connected(), call.Token);
            await SendAsync(MediaStreamFrames.Start(NextSequence(), _streamId, _settings), call.Token);
            sending = SendMediaAsync(media.Token);
            echoing = EchoMarksAsync(call.Token);
            scripted = RunScriptAsync(call.Token);
            await Task.WhenAny(scripted, receiving, sending);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled while sending connected/start: hang up below.
        }

        await media.CancelAsync();
        await Settle(sending);
        var reason = scripted is { IsCompletedSuccessfully: true } ? scripted.Result.Reason
            : cancellationToken.IsCancellationRequested ? CallEndReason.Cancelled
            : CallEndReason.ServerClosed;
        if (reason != CallEndReason.ServerClosed)
        {
            await HangUpAsync();
        }

        await WaitOrAbort(receiving);
        await call.CancelAsync();
        await Settle(echoing);
        if (scripted is not null)
        {
            await Settle(scripted);
        }

        return Recording(reason, scripted is { IsCompletedSuccessfully: true } ? scripted.Result.TimedOutStep : null);
    }

    private static async Task Settle(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Loops end with the socket; how the call ended is decided from the script and the token.
        }
    }

    private async Task HangUpAsync()
    {
        await SendAsync(MediaStreamFrames.Stop(NextSequence(), _streamId, _settings), CancellationToken.None);
        await CloseOutputAsync();
    }

    private async Task WaitOrAbort(Task receiving)
    {
        if (await Task.WhenAny(receiving, Task.Delay(CloseTimeout)) != receiving)
        {
            _socket.Abort();
        }

        // The service may drop the connection without a close handshake: Settle absorbs that like any other end.
        await Settle(receiving);
    }

    private async Task<ScriptOutcome> RunScriptAsync(CancellationToken cancellationToken)
    {
        foreach (var step in _script.Steps)
        {
            switch (step)
            {
                case SayStep say:
                    await SpeakAsync(say.Audio ?? SyntheticSpeech.For(say.Text, _settings.Format), say.Text, cancellationToken);
                    break;
                case SilenceStep silence:
                    await SpeakAsync(SyntheticSpeech.Silence(silence.Duration, _settings.Format), null, cancellationToken);
                    break;
                case WaitForAgentToFinishStep finish:
                    var since = Now;
                    if (!await WaitUntilAsync(() => _playout.FinishedSince(since, finish.Quiet, Now), finish.Timeout, cancellationToken))
                    {
                        return new ScriptOutcome(CallEndReason.TimedOut, step);
                    }

                    break;
                case WaitForAgentSpeechStep speech:
                    if (!await WaitUntilAsync(() => _playout.PlayingFor(speech.After, Now), speech.Timeout, cancellationToken))
                    {
                        return new ScriptOutcome(CallEndReason.TimedOut, step);
                    }

                    break;
                case DtmfStep dtmf:
                    var at = Now;
                    if (await SendAsync(MediaStreamFrames.Dtmf(NextSequence(), _streamId, DateTimeOffset.UtcNow, dtmf.Digit), cancellationToken))
                    {
                        _dtmf.Add(new DtmfSent(dtmf.Digit, at));
                    }

                    break;
                case HangUpStep:
                    return new ScriptOutcome(CallEndReason.CallerHungUp, null);
            }
        }

        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        throw new UnreachableException();
    }

    private async Task SpeakAsync(byte[] audio, string? text, CancellationToken cancellationToken)
    {
        var spoken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _callerAudio.Writer.WriteAsync(new CallerAudio(text, audio, spoken), cancellationToken);
        await spoken.Task.WaitAsync(cancellationToken);
    }

    private async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Now + timeout;
        while (!condition())
        {
            if (Now >= deadline)
            {
                return false;
            }

            await Task.Delay(WaitPollInterval, cancellationToken);
        }

        return true;
    }

    /// <summary>One media frame per chunk, on absolute deadlines (frame n leaves at (n + 1) × chunk), so there is no drift.</summary>
    private async Task SendMediaAsync(CancellationToken cancellationToken)
    {
        var format = _settings.Format;
        var chunk = _settings.InboundChunk;
        var chunkBytes = format.BytesPer(chunk);
        var silence = SyntheticSpeech.Silence(chunk, format);
        var origin = Now;
        CallerAudio? current = null;
        var offset = 0;
        var lineStart = TimeSpan.Zero;
        for (long n = 0; ; n++)
        {
            var delay = origin + ((n + 1) * chunk) - Now;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken);
            }

            if (current is null && _callerAudio.Reader.TryRead(out var next))
            {
                (current, offset) = (next, 0);
            }

            var payload = silence;
            if (current is not null)
            {
                payload = (byte[])silence.Clone();
                var length = Math.Min(chunkBytes, current.Audio.Length - offset);
                current.Audio.AsSpan(offset, length).CopyTo(payload);
                if (offset == 0)
                {
                    lineStart = Now;
                }

                offset += length;
            }

            var timestamp = (long)(n * chunk).TotalMilliseconds;
            if (!await SendAsync(MediaStreamFrames.Media(NextSequence(), _streamId, n + 1, timestamp, payload), cancellationToken))
            {
                return;
            }

            _mediaFramesSent++;
            if (current is not null && offset >= current.Audio.Length)
            {
                if (current.Text is not null)
                {
                    _lines.Add(new CallerLine(current.Text, lineStart, Now));
                }

                current.Spoken.TrySetResult();
                current = null;
            }
        }
    }

    /// <summary>Reads until the service closes or the socket is aborted; socket calls take no token because cancelling one aborts the socket.</summary>
    private async Task ReceiveAsync()
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                _serverCloseStatus = _socket.CloseStatus;
                await CloseOutputAsync();

                return;
            }

            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }

            var frame = result.MessageType == WebSocketMessageType.Text
                ? MediaStreamFrames.Parse(message.GetBuffer().AsMemory(0, (int)message.Length), _settings.Format)
                : MediaStreamFrames.Malformed("binary frames are not accepted; send JSON text frames");
            message.SetLength(0);
            await HandleAsync(frame);
        }
    }

    /// <summary>Sends our close frame unless one was already sent; later sends are dropped.</summary>
    private async Task CloseOutputAsync()
    {
        await _sendLock.WaitAsync(CancellationToken.None);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            _socket.Abort();
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task HandleAsync(ServiceFrame frame)
    {
        var now = Now;
        switch (frame)
        {
            case AgentMediaFrame media:
                _arrivals.Add(new MediaArrival(now, media.Audio));
                _playout.Enqueue(media.Audio, now);
                break;
            case ClearFrame:
                foreach (var name in _playout.Clear(now))
                {
                    await EchoMarkAsync(name, CancellationToken.None);
                }

                break;
            case MarkFrame mark:
                if (_playout.TryQueueMark(mark.Name, now))
                {
                    _markAdded.Release();
                }
                else
                {
                    await EchoMarkAsync(mark.Name, CancellationToken.None);
                }

                break;
            case InvalidFrame error:
                if (await SendAsync(MediaStreamFrames.Error(_streamId, error), CancellationToken.None))
                {
                    _errors.Add(new StreamError(error.Code, error.Title, error.Detail, now));
                }

                break;
        }
    }

    /// <summary>Echoes each queued mark when the audio queued before it has finished playing.</summary>
    private async Task EchoMarksAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            foreach (var name in _playout.TakeDueMarks(Now))
            {
                await EchoMarkAsync(name, cancellationToken);
            }

            var wait = _playout.NextMarkDue is { } due ? Max(due - Now, TimeSpan.FromMilliseconds(1)) : Timeout.InfiniteTimeSpan;
            await _markAdded.WaitAsync(wait, cancellationToken);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task EchoMarkAsync(string name, CancellationToken cancellationToken)
    {
        if (!await SendAsync(MediaStreamFrames.Mark(NextSequence(), _streamId, name), cancellationToken))
        {
            return;
        }

        lock (_marks)
        {
            _marks.Add(new MarkEcho(name, Now));
        }
    }

    private long NextSequence() => Interlocked.Increment(ref _sequence);

    /// <summary>
    /// Sends one frame; false once the stream is closing, when frames can no longer be sent. The token only
    /// covers waiting for the socket: cancelling a WebSocket send would abort the whole connection.
    /// </summary>
    private async Task<bool> SendAsync(byte[] frame, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            if (_socket.State != WebSocketState.Open)
            {
                return false;
            }

            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            return true;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private MediaCallRecording Recording(CallEndReason reason, CallerStep? timedOutStep)
    {
        var duration = Now;
        return new MediaCallRecording
        {
            StreamId = _streamId,
            Format = _settings.Format,
            EndReason = reason,
            TimedOutStep = timedOutStep,
            HandshakeStatusCode = reason == CallEndReason.ConnectFailed && _socket.HttpStatusCode != 0 ? (int)_socket.HttpStatusCode : null,
            ServerCloseStatus = _serverCloseStatus,
            Duration = duration,
            MediaFramesSent = _mediaFramesSent,
            CallerLines = _lines,
            DtmfSent = _dtmf,
            Arrivals = _arrivals,
            Heard = _playout.Heard(duration),
            Clears = _playout.Clears,
            MarksEchoed = _marks,
            ErrorsSent = _errors,
        };
    }

    private sealed record ScriptOutcome(CallEndReason Reason, CallerStep? TimedOutStep);

    private sealed record CallerAudio(string? Text, byte[] Audio, TaskCompletionSource Spoken);
}
