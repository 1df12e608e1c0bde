using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace TelnyxAiService.Emulators.Deepgram;

/// <summary>
/// One /v1/listen connection. Audio is cut into 20 ms frames and each frame advances the audio clock, so timing
/// follows the bytes received, not the wall clock: a burst of speech opens a segment (SpeechStarted), interims
/// reveal its words about 2.5 a second, silence of <c>endpointing</c> ms makes it final, silence of
/// <c>utterance_end_ms</c> after the last word sends UtteranceEnd. Messages leave through a send loop.
/// </summary>
internal sealed class ListenSession : IDisposable
{
    private const int FrameMs = 20;
    private const int InterimEveryMs = 250;
    private const double WordsPerSecond = 2.5;
    private const int LongSegmentWords = 8;
    private const string IdleReason = "NET-0001: Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001";
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(2);

    private readonly WebSocket _socket;
    private readonly ListenSettings _settings;
    private readonly DeepgramConnection _connection;
    private readonly DeepgramEmulatorOptions _options;
    private readonly Func<string> _nextText;
    private readonly Action _abort;
    private readonly string _requestId = Guid.NewGuid().ToString();
    private readonly DateTimeOffset _created = DateTimeOffset.UtcNow;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Channel<Outgoing> _outgoing = Channel.CreateBounded<Outgoing>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
    private readonly List<Outgoing> _pending = [];
    private readonly short[] _frame;
    private int _frameFill;
    private byte? _oddByte;
    private long _audioMs;
    private bool _closing;

    // The open segment: null between bursts of speech.
    private string[]? _words;
    private int _finalizedWords;
    private long _speechMs;
    private long _wordsStartMs;
    private long _lastInterimMs;
    private long _lastSpeechEndMs;
    private long _windowStartMs;
    private bool _utterancePending;

    public ListenSession(WebSocket socket, ListenSettings settings, DeepgramConnection connection, DeepgramEmulatorOptions options, Func<string> nextText, Action abort)
    {
        _socket = socket;
        _settings = settings;
        _connection = connection;
        _options = options;
        _nextText = nextText;
        _abort = abort;
        _frame = new short[settings.Format.SampleRate * FrameMs / 1000];
    }

    private readonly record struct Outgoing(string? Json, WebSocketCloseStatus? Close, string? Reason, DateTimeOffset Due);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var send = SendLoopAsync(sending.Token);
        try
        {
            await ReceiveLoopAsync(cancellationToken);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away, or the emulator is stopping.
        }
        finally
        {
            _outgoing.Writer.TryComplete();
            if (_connection.Dropped)
            {
                await sending.CancelAsync();
            }
            else
            {
                sending.CancelAfter(CloseWait);
            }

            try
            {
                await send;
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                // Nobody left to send to.
            }
        }
    }

    public void Dispose() => _sha256.Dispose();

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var text = new ArrayBufferWriter<byte>();
        using var idle = new CancellationTokenSource(_options.IdleTimeout);
        var idleTimeout = Task.Delay(Timeout.Infinite, idle.Token);
        while (true)
        {
            var receive = _socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).AsTask();
            if (await Task.WhenAny(receive, idleTimeout) == idleTimeout)
            {
                if (!_closing)
                {
                    await CloseAsync(WebSocketCloseStatus.InternalServerError, IdleReason, cancellationToken);
                }

                await Task.WhenAny(receive, Task.Delay(CloseWait, cancellationToken));
                return;
            }

            var result = await receive;
            idle.CancelAfter(_options.IdleTimeout);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (!_closing)
                {
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
                }

                return;
            }

            if (_closing)
            {
                continue;
            }

            if (result.MessageType == WebSocketMessageType.Binary)
            {
                OnAudio(buffer.AsSpan(0, result.Count));
                if (_connection.Dropped)
                {
                    _abort();
                    return;
                }
            }
            else
            {
                text.Write(buffer.AsSpan(0, result.Count));
                if (result.EndOfMessage)
                {
                    OnControl(text.WrittenMemory);
                    text.ResetWrittenCount();
                }
            }

            await FlushAsync(cancellationToken);
        }
    }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (var message in _outgoing.Reader.ReadAllAsync(cancellationToken))
        {
            var wait = message.Due - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            if (message.Close is { } status)
            {
                _connection.MarkClosed(status);
                await _socket.CloseOutputAsync(status, message.Reason, cancellationToken);
                return;
            }

            await _socket.SendAsync(Encoding.UTF8.GetBytes(message.Json!), WebSocketMessageType.Text, true, cancellationToken);
            _connection.RecordSent(message.Json!);
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var message in _pending)
        {
            await _outgoing.Writer.WriteAsync(message, cancellationToken);
        }

        _pending.Clear();
    }

    private Task CloseAsync(WebSocketCloseStatus status, string reason, CancellationToken cancellationToken)
    {
        _closing = true;
        _pending.Add(new Outgoing(null, status, reason, DateTimeOffset.UtcNow));
        return FlushAsync(cancellationToken);
    }

    private void Send(string json, bool isFinal = false) =>
        _pending.Add(new Outgoing(json, null, null, DateTimeOffset.UtcNow + (isFinal ? _options.FinalDelay : TimeSpan.Zero)));

    private void OnControl(ReadOnlyMemory<byte> json)
    {
        string type;
        try
        {
            using var document = JsonDocument.Parse(json);
            type = document.RootElement.GetProperty("type").GetString() ?? "invalid";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            type = "invalid";
        }

        _connection.RecordControl(new DeepgramControlMessage(type, TimeSpan.FromMilliseconds(_audioMs)));
        switch (type)
        {
            case "Finalize" when _words is not null:
                FinishSegment(speechFinal: false, fromFinalize: true);
                break;
            case "CloseStream":
                if (_words is not null)
                {
                    FinishSegment(speechFinal: true, fromFinalize: false);
                }

                Send(ListenMessages.Metadata(_settings, _requestId, _sha256.GetHashAndReset(), _created, _audioMs / 1000.0));
                _pending.Add(new Outgoing(null, WebSocketCloseStatus.NormalClosure, "", DateTimeOffset.UtcNow));
                _closing = true;
                break;
        }
    }

    private void OnAudio(ReadOnlySpan<byte> data)
    {
        _connection.AddBytes(data.Length);
        _sha256.AppendData(data);
        if (_settings.Format.BytesPerSample == 2)
        {
            if (_oddByte is { } low && !data.IsEmpty)
            {
                AddSample((short)(low | (data[0] << 8)));
                data = data[1..];
                _oddByte = null;
            }

            if (data.Length % 2 == 1)
            {
                _oddByte = data[^1];
                data = data[..^1];
            }
        }

        foreach (var sample in _settings.Format.Decode(data))
        {
            AddSample(sample);
            if (_connection.Dropped)
            {
                return;
            }
        }
    }

    private void AddSample(short sample)
    {
        _frame[_frameFill++] = sample;
        if (_frameFill < _frame.Length)
        {
            return;
        }

        _frameFill = 0;
        var start = _audioMs;
        _audioMs += FrameMs;
        if (SpeechDetector.IsSpeech(_frame, _options.SpeechThreshold))
        {
            OnSpeech(start);
        }
        else
        {
            OnSilence();
        }

        if (_connection.Index == _options.DropOnConnection && _options.DropConnectionAfter is { } drop && _audioMs >= drop.TotalMilliseconds)
        {
            _connection.MarkDropped();
        }
    }

    private void OnSpeech(long frameStart)
    {
        if (_words is null)
        {
            _words = _nextText().Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            _finalizedWords = 0;
            _speechMs = 0;
            _wordsStartMs = frameStart;
            _lastInterimMs = frameStart;
            if (_settings.VadEvents)
            {
                Send(ListenMessages.SpeechStarted(frameStart / 1000.0));
            }
        }

        _speechMs += FrameMs;
        _lastSpeechEndMs = _audioMs;
        var heard = (int)Math.Min(_words.Length, Math.Max(1, _speechMs * WordsPerSecond / 1000));
        if (_words.Length > LongSegmentWords && _finalizedWords == 0 && heard >= (_words.Length + 1) / 2)
        {
            SendResults(heard, isFinal: true, speechFinal: false, fromFinalize: false);
        }
        else if (_settings.InterimResults && _audioMs - _lastInterimMs >= InterimEveryMs && heard > _finalizedWords)
        {
            _lastInterimMs = _audioMs;
            SendResults(heard, isFinal: false, speechFinal: false, fromFinalize: false);
        }
    }

    private void OnSilence()
    {
        var silenceMs = _audioMs - _lastSpeechEndMs;
        if (_words is not null && _settings.EndpointingMs is { } endpointing && silenceMs >= endpointing)
        {
            FinishSegment(speechFinal: true, fromFinalize: false);
        }

        if (_utterancePending && _settings.UtteranceEndMs is { } utteranceEnd && silenceMs >= utteranceEnd)
        {
            if (_words is not null)
            {
                FinishSegment(speechFinal: false, fromFinalize: false);
            }

            _utterancePending = false;
            Send(ListenMessages.UtteranceEnd(_lastSpeechEndMs / 1000.0));
        }
    }

    /// <summary>Sends the whole rest of the open segment as final and closes it.</summary>
    private void FinishSegment(bool speechFinal, bool fromFinalize)
    {
        SendResults(_words!.Length, isFinal: true, speechFinal, fromFinalize);
        _words = null;
    }

    /// <summary>Sends the open segment's words not yet final, up to <paramref name="upTo"/>, spread over the speech heard.</summary>
    private void SendResults(int upTo, bool isFinal, bool speechFinal, bool fromFinalize)
    {
        var words = _words![_finalizedWords..upTo];
        var spanMs = Math.Max(_lastSpeechEndMs - _wordsStartMs, FrameMs);
        var perWordMs = (double)spanMs / Math.Max(1, words.Length);
        var timed = words
            .Select((text, i) => new ListenMessages.Word(text, (_wordsStartMs + (i * perWordMs)) / 1000, (_wordsStartMs + ((i + 0.9) * perWordMs)) / 1000))
            .ToList();
        Send(
            ListenMessages.Results(_settings, _requestId, _windowStartMs / 1000.0, (_audioMs - _windowStartMs) / 1000.0, isFinal, speechFinal, fromFinalize, timed),
            isFinal);
        _utterancePending |= words.Length > 0;
        if (isFinal)
        {
            _finalizedWords = upTo;
            _windowStartMs = _audioMs;
            _wordsStartMs = _audioMs;
            _lastInterimMs = _audioMs;
        }
    }
}
