using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.BrowserCalls;

/// <summary>
/// What the console page does on a browser call: streams 20 ms of 16 kHz PCM every 20 ms (silence, or the speech it is
/// told to say), takes the agent's audio frames, echoes each mark as it arrives and notes every text frame.
/// </summary>
internal sealed class BrowserCaller : IAsyncDisposable
{
    public const int FrameBytes = 640;
    private static readonly EmulatedAudioFormat Pcm = EmulatedAudioFormat.L16At16k;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Channel<byte[]> _speech = Channel.CreateUnbounded<byte[]>();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private readonly Task _sending;
    private volatile byte[]? _saying;

    private BrowserCaller(ClientWebSocket socket)
    {
        Socket = socket;
        _receiving = ReceiveAsync();
        _sending = SendMediaAsync(_stop.Token);
    }

    public ClientWebSocket Socket { get; }

    /// <summary>Every text frame from the server, in order.</summary>
    public ConcurrentQueue<JsonElement> Texts { get; } = new();

    /// <summary>When each agent audio frame arrived, and its size.</summary>
    public ConcurrentQueue<(TimeSpan At, int Bytes)> Audio { get; } = new();

    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Completes when the server has closed the socket.</summary>
    public Task Closed => _receiving;

    public static async Task<(string CallId, Uri StreamUrl)> CreateAsync(ServiceHarness harness, CancellationToken cancellationToken)
    {
        var response = await harness.Client.PostAsync("/api/browser/calls", null, cancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var path = created.GetProperty("stream_url").GetString()!;
        Assert.StartsWith("/stream/browser?token=", path, StringComparison.Ordinal);
        return (created.GetProperty("call_id").GetString()!, new Uri(harness.BaseUrl.ToString().Replace("http://", "ws://", StringComparison.Ordinal).TrimEnd('/') + path));
    }

    public static async Task<BrowserCaller> ConnectAsync(Uri streamUrl, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(streamUrl, cancellationToken);
        return new BrowserCaller(socket);
    }

    public int Events(string name) => Texts.Count(t => t.GetProperty("event").GetString() == name);

    /// <summary>Queues the synthetic speech for <paramref name="text"/> (sent in real time) and waits until it has been sent.</summary>
    public async Task SayAsync(string text)
    {
        var audio = SyntheticSpeech.For(text, Pcm);
        await _speech.Writer.WriteAsync(audio);
        await Wait.UntilAsync(() => _speech.Reader.Count == 0 && _saying is null, "the caller's speech to be sent", TimeSpan.FromSeconds(30));
    }

    /// <summary>Waits until agent audio has arrived after <paramref name="since"/> and none for <paramref name="quiet"/> since.</summary>
    public Task WaitForAgentToFinishAsync(TimeSpan since, TimeSpan? quiet = null) => Wait.UntilAsync(
        () => Audio.Any(a => a.At > since) && Now - Audio.Last().At > (quiet ?? TimeSpan.FromMilliseconds(600)),
        "the agent to speak and finish",
        TimeSpan.FromSeconds(30));

    public Task SendTextAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, CancellationToken.None);

    public Task SendBinaryAsync(byte[] data) => SendAsync(data, WebSocketMessageType.Binary, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAny(_sending);
        if (Socket.State == WebSocketState.Open)
        {
            Socket.Abort();
        }

        await Task.WhenAny(_receiving);
        Socket.Dispose();
        _stop.Dispose();
    }

    private async Task SendMediaAsync(CancellationToken cancellationToken)
    {
        var silence = new byte[FrameBytes];
        var offset = 0;
        var origin = Now;
        try
        {
            for (long n = 0; Socket.State == WebSocketState.Open; n++)
            {
                var delay = origin + TimeSpan.FromMilliseconds(20 * (n + 1)) - Now;
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, cancellationToken);
                }

                if (_saying is null && _speech.Reader.TryRead(out var next))
                {
                    (_saying, offset) = (next, 0);
                }

                var frame = silence;
                if (_saying is { } saying)
                {
                    frame = new byte[FrameBytes];
                    var length = Math.Min(FrameBytes, saying.Length - offset);
                    saying.AsSpan(offset, length).CopyTo(frame);
                    offset += length;
                    if (offset >= saying.Length)
                    {
                        _saying = null;
                    }
                }

                await SendAsync(frame, WebSocketMessageType.Binary, cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await SendCloseAsync();
                    return;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    Audio.Enqueue((Now, (int)message.Length));
                }
                else
                {
                    var text = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
                    Texts.Enqueue(text);
                    if (text.GetProperty("event").GetString() == "mark")
                    {
                        await SendTextAsync($$"""{"event":"mark","name":"{{text.GetProperty("name").GetString()}}"}""");
                    }
                }

                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException)
        {
        }
    }

    private async Task SendCloseAsync()
    {
        await _sendLock.WaitAsync();
        try
        {
            if (Socket.State == WebSocketState.CloseReceived)
            {
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendAsync(byte[] data, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            if (Socket.State == WebSocketState.Open)
            {
                await Socket.SendAsync(data, type, endOfMessage: true, CancellationToken.None);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }
}
