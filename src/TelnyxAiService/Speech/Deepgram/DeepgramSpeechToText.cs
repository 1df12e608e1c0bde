using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Threading.Channels;
using TelnyxAiService.Audio;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Speech.Deepgram;

/// <summary>
/// Deepgram live streaming (v1) over a WebSocket. Caller audio is drained at once into a bounded buffer (about the
/// last 10 s), so the caller is never slowed; a send loop forwards it (KeepAlive while it pauses, Finalize and
/// CloseStream when it ends) and a receive loop turns Results/SpeechStarted/UtteranceEnd into speech events. An
/// unexpected close reconnects with backoff and sends the audio buffered meanwhile first.
/// </summary>
internal sealed partial class DeepgramSpeechToText(DeepgramOptions options, Telemetry.ServiceTelemetry telemetry, TimeProvider time, ILogger<DeepgramSpeechToText> logger)
    : ISpeechToText
{
    private const string Provider = "deepgram";
    private const int MaxAttempts = 5;
    private const int BufferedFrames = 500;
    private const int EventCapacity = 64;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    public async IAsyncEnumerable<SpeechEvent> TranscribeAsync(
        AudioFormat format,
        IAsyncEnumerable<AudioFrame> callerAudio,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var events = Channel.CreateBounded<SpeechEvent>(new BoundedChannelOptions(EventCapacity) { SingleReader = true, SingleWriter = true });
        var call = new Call(options, telemetry, time, logger, format, events.Writer);
        var pump = call.PumpAsync(callerAudio, stop.Token);
        var run = call.RunAsync(stop.Token);
        try
        {
            await foreach (var speechEvent in events.Reader.ReadAllAsync(cancellationToken))
            {
                yield return speechEvent;
            }

            await run;
        }
        finally
        {
            await stop.CancelAsync();
            await IgnoreFailureAsync(pump);
            await IgnoreFailureAsync(run);
        }
    }

    private static async Task IgnoreFailureAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
            // Already reported through the stream, or the stream was abandoned by its reader.
        }
    }

    private static bool IsConnectionFailure(Exception e) => e is WebSocketException or IOException or HttpRequestException;

    /// <summary>The state of one transcription: buffered caller audio and the frame a failed send left unsent.</summary>
    private sealed class Call
    {
        private readonly DeepgramOptions _options;
        private readonly Telemetry.ServiceTelemetry _telemetry;
        private readonly TimeProvider _time;
        private readonly ILogger _logger;
        private readonly AudioFormat _format;
        private readonly ChannelWriter<SpeechEvent> _events;
        private readonly Channel<AudioFrame> _audio;
        private AudioFrame? _unsent;
        private int _droppedFrames;

        /// <summary>The latest interim words of the segment in progress, which a dropped connection would otherwise lose.</summary>
        private string? _unfinished;

        public Call(DeepgramOptions options, Telemetry.ServiceTelemetry telemetry, TimeProvider time, ILogger logger, AudioFormat format, ChannelWriter<SpeechEvent> events)
        {
            _options = options;
            _telemetry = telemetry;
            _time = time;
            _logger = logger;
            _format = format;
            _events = events;
            _audio = Channel.CreateBounded<AudioFrame>(
                new BoundedChannelOptions(BufferedFrames) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
                _ => Interlocked.Increment(ref _droppedFrames));
        }

        /// <summary>Drains the caller's audio into the buffer, dropping the oldest when it is full.</summary>
        public async Task PumpAsync(IAsyncEnumerable<AudioFrame> callerAudio, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var frame in callerAudio.WithCancellation(cancellationToken))
                {
                    _audio.Writer.TryWrite(frame);
                }

                _audio.Writer.TryComplete();
            }
            catch (Exception e)
            {
                _audio.Writer.TryComplete(e);
            }
        }

        /// <summary>Connects, and reconnects after unexpected closes, until the audio has ended and been flushed.</summary>
        public async Task RunAsync(CancellationToken cancellationToken)
        {
            try
            {
                var failures = 0;
                ProviderException? lastError = null;
                while (true)
                {
                    if (failures > 0)
                    {
                        if (failures > MaxAttempts)
                        {
                            throw new ProviderException(Provider, $"gave up after {MaxAttempts} reconnect attempts: {lastError?.Message}", retryable: true, lastError);
                        }

                        var delay = FirstBackoff * (1 << (failures - 1));
                        _telemetry.ProviderRetried(Provider);
                        LogReconnecting(_logger, failures, (long)delay.TotalMilliseconds);
                        await Task.Delay(delay, _time, cancellationToken);
                    }

                    ClientWebSocket socket;
                    try
                    {
                        socket = await ConnectAsync(cancellationToken);
                    }
                    catch (ProviderException e) when (e.Retryable)
                    {
                        lastError = e;
                        failures++;
                        continue;
                    }

                    using (socket)
                    {
                        LogConnected(_logger, _format.ToString(), Interlocked.Exchange(ref _droppedFrames, 0));
                        lastError = await RunConnectionAsync(socket, cancellationToken);
                        if (lastError is null)
                        {
                            return;
                        }

                        LogDropped(_logger, lastError.Message);
                        failures = 1;
                        if (_unfinished is { Length: > 0 } words)
                        {
                            // The new connection starts a new segment: keep what the caller said before the drop.
                            _unfinished = null;
                            await _events.WriteAsync(new TranscriptUpdate(words, IsFinal: true, SpeechFinal: false), cancellationToken);
                        }
                    }
                }
            }
            catch (ProviderException)
            {
                _telemetry.ProviderFailed(Provider);
                throw;
            }
            finally
            {
                _events.TryComplete();
            }
        }

        private async Task<ClientWebSocket> ConnectAsync(CancellationToken cancellationToken)
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", $"Token {_options.ApiKey}");
            socket.Options.CollectHttpResponseDetails = true;
            using var timer = new CancellationTokenSource(ConnectTimeout, _time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            try
            {
                await socket.ConnectAsync(DeepgramMessages.ListenUri(_options, _format), timeout.Token);
                return socket;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && (IsConnectionFailure(e) || e is OperationCanceledException))
            {
                var status = socket.HttpStatusCode;
                socket.Dispose();
                throw status switch
                {
                    0 => new ProviderException(Provider, $"could not connect: {e.Message}", retryable: true, e),
                    HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                        new ProviderException(Provider, $"rejected the API key (HTTP {(int)status}); check DEEPGRAM_API_KEY", retryable: false, e),
                    HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError =>
                        new ProviderException(Provider, $"handshake failed with HTTP {(int)status}", retryable: true, e),
                    _ => new ProviderException(Provider, $"rejected the stream settings (HTTP {(int)status})", retryable: false, e),
                };
            }
        }

        /// <summary>
        /// Runs the send and receive loops on one connection. Returns null when the audio ended and was flushed, or
        /// the reason to reconnect; throws when reconnecting cannot help.
        /// </summary>
        private async Task<ProviderException?> RunConnectionAsync(ClientWebSocket socket, CancellationToken cancellationToken)
        {
            using var closing = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
            using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing.Token);
            var send = SendLoopAsync(socket, connection.Token);
            var receive = ReceiveLoopAsync(socket, connection.Token);
            var first = await Task.WhenAny(send, receive);
            if (first == send && send.IsCompletedSuccessfully)
            {
                closing.CancelAfter(CloseTimeout);
            }
            else
            {
                await connection.CancelAsync();
            }

            WebSocketCloseStatus? closeStatus = null;
            Exception? receiveError = null;
            Exception? sendError = null;
            try
            {
                closeStatus = await receive;
            }
            catch (Exception e)
            {
                receiveError = e;
            }

            try
            {
                await send;
            }
            catch (Exception e)
            {
                sendError = e;
            }

            cancellationToken.ThrowIfCancellationRequested();
            await AnswerCloseAsync(socket);
            if (send.IsCompletedSuccessfully)
            {
                return null;
            }

            var cause = first == send ? sendError : receiveError;
            if (cause is not null && !IsConnectionFailure(cause))
            {
                ExceptionDispatchInfo.Throw(cause);
            }

            if (closeStatus == WebSocketCloseStatus.PolicyViolation)
            {
                throw new ProviderException(Provider, $"closed the stream: {socket.CloseStatusDescription}", retryable: false);
            }

            return closeStatus is { } status
                ? new ProviderException(Provider, $"closed the stream unexpectedly ({(int)status} {socket.CloseStatusDescription})", retryable: true)
                : new ProviderException(Provider, $"connection lost: {cause?.Message}", retryable: true, cause);
        }

        private async Task AnswerCloseAsync(ClientWebSocket socket)
        {
            if (socket.State != WebSocketState.CloseReceived)
            {
                return;
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1), _time);
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception e) when (IsConnectionFailure(e) || e is OperationCanceledException)
            {
                // The server has closed; an unanswered close handshake changes nothing.
            }
        }

        private async Task SendLoopAsync(ClientWebSocket socket, CancellationToken cancellationToken)
        {
            if (_unsent is { } unsent)
            {
                await SendAudioAsync(socket, unsent, cancellationToken);
            }

            // One reusable timeout per connection: between 20 ms frames the loop only re-arms it, and it fires (a
            // KeepAlive) only after KeepAliveInterval without audio.
            var reader = _audio.Reader;
            using var quiet = new QuietTimer(_time, cancellationToken);
            while (true)
            {
                while (reader.TryRead(out var frame))
                {
                    await SendAudioAsync(socket, frame, cancellationToken);
                }

                try
                {
                    if (!await reader.WaitToReadAsync(quiet.Arm(_options.KeepAliveInterval)))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    await socket.SendAsync(DeepgramMessages.KeepAlive, WebSocketMessageType.Text, true, cancellationToken);
                }
            }

            await socket.SendAsync(DeepgramMessages.Finalize, WebSocketMessageType.Text, true, cancellationToken);
            await socket.SendAsync(DeepgramMessages.CloseStream, WebSocketMessageType.Text, true, cancellationToken);
        }

        private async Task SendAudioAsync(ClientWebSocket socket, AudioFrame frame, CancellationToken cancellationToken)
        {
            _unsent = frame;
            await socket.SendAsync(frame.Payload, WebSocketMessageType.Binary, true, cancellationToken);
            _unsent = null;
        }

        private async Task<WebSocketCloseStatus?> ReceiveLoopAsync(ClientWebSocket socket, CancellationToken cancellationToken)
        {
            var buffer = new byte[8192];
            var message = new ArrayBufferWriter<byte>();
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return socket.CloseStatus;
                }

                message.Write(buffer.AsSpan(0, result.Count));
                if (!result.EndOfMessage)
                {
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Text)
                {
                    SpeechEvent? speechEvent = null;
                    try
                    {
                        speechEvent = DeepgramMessages.Parse(message.WrittenMemory);
                    }
                    catch (JsonException e)
                    {
                        LogMalformed(_logger, message.WrittenCount, e.Message);
                    }

                    if (speechEvent is not null)
                    {
                        if (speechEvent is TranscriptUpdate update)
                        {
                            _unfinished = update.IsFinal ? null : update.Text;
                        }

                        await _events.WriteAsync(speechEvent, cancellationToken);
                    }
                }

                message.ResetWrittenCount();
            }
        }
    }

    /// <summary>
    /// A timeout on the injected clock that also fires when a stop token does, re-armed without allocating until it
    /// fires (then it is replaced). Not a linked source: resetting the timer would unregister the link.
    /// </summary>
    private sealed class QuietTimer(TimeProvider time, CancellationToken stop) : IDisposable
    {
        private CancellationTokenSource? _timer;
        private CancellationTokenRegistration _stopping;

        /// <summary>A token cancelled after <paramref name="delay"/> from now, or when the stop token is.</summary>
        public CancellationToken Arm(TimeSpan delay)
        {
            if (_timer is null || !_timer.TryReset())
            {
                Dispose();
                _timer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
                _stopping = stop.UnsafeRegister(static timer => ((CancellationTokenSource)timer!).Cancel(), _timer);
            }

            _timer.CancelAfter(delay);
            return _timer.Token;
        }

        public void Dispose()
        {
            _stopping.Dispose();
            _timer?.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deepgram connected ({Format}); {DroppedFrames} caller frames dropped while disconnected")]
    private static partial void LogConnected(ILogger logger, string format, int droppedFrames);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deepgram connection dropped: {Reason}")]
    private static partial void LogDropped(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deepgram reconnect attempt {Attempt} in {DelayMs} ms")]
    private static partial void LogReconnecting(ILogger logger, int attempt, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a malformed Deepgram message ({Bytes} bytes): {Problem}")]
    private static partial void LogMalformed(ILogger logger, int bytes, string problem);
}
