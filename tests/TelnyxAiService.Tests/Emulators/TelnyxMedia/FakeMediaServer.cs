using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TelnyxAiService.Emulators;

namespace TelnyxAiService.Tests.Emulators.TelnyxMedia;

/// <summary>A frame the fake service received from the emulated caller, with its arrival time on the server's clock.</summary>
internal sealed record ReceivedFrame(TimeSpan At, JsonElement Json)
{
    public string Event => Json.GetProperty("event").GetString()!;

    public byte[] Payload() => Convert.FromBase64String(Json.GetProperty("media").GetProperty("payload").GetString()!);
}

/// <summary>The service side of the media stream, written in the test: accepts one WebSocket at /stream and runs a behaviour on it.</summary>
internal sealed class FakeMediaServer : IAsyncDisposable
{
    private readonly EmulatorHost _host;
    private readonly TaskCompletionSource<AgentConnection> _connection;
    private readonly TaskCompletionSource _finished;

    private FakeMediaServer(EmulatorHost host, TaskCompletionSource<AgentConnection> connection, TaskCompletionSource finished)
    {
        _host = host;
        _connection = connection;
        _finished = finished;
    }

    public Task<AgentConnection> Connection => _connection.Task;

    /// <summary>Completes when the socket has closed; faults if the behaviour threw.</summary>
    public Task Finished => _finished.Task;

    public Uri StreamUrl(string pathAndQuery = "/stream") => new($"ws://{_host.BaseUrl.Authority}{pathAndQuery}");

    public static async Task<FakeMediaServer> StartAsync(Func<AgentConnection, CancellationToken, Task>? behaviour = null)
    {
        var connection = new TaskCompletionSource<AgentConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = await EmulatorHost.StartAsync(
            app => app.Map("/stream", async context =>
            {
                if (context.Request.Query["reject"] == "401")
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return;
                }

                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var agent = new AgentConnection(socket, context.Request);
                connection.TrySetResult(agent);
                try
                {
                    var receiving = agent.ReceiveUntilClosedAsync();
                    await (behaviour?.Invoke(agent, context.RequestAborted) ?? Task.CompletedTask);
                    await receiving;
                    finished.TrySetResult();
                }
                catch (Exception e)
                {
                    finished.TrySetException(e);
                }
            }),
            cancellationToken: TestContext.Current.CancellationToken);
        return new FakeMediaServer(host, connection, finished);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}

internal sealed class AgentConnection(WebSocket socket, HttpRequest request)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Channel<ReceivedFrame> _unread = Channel.CreateUnbounded<ReceivedFrame>();
    private readonly List<ReceivedFrame> _received = [];

    public string? AuthToken { get; } = request.Headers.TryGetValue("x-telnyx-streaming-auth-token", out var token) ? token.ToString() : null;

    public string Query { get; } = request.QueryString.Value ?? "";

    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyList<ReceivedFrame> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Reads frames in order until one matches; every frame stays in <see cref="Received"/>.</summary>
    public async Task<ReceivedFrame> NextAsync(Func<ReceivedFrame, bool> match, CancellationToken cancellationToken)
    {
        while (true)
        {
            var frame = await _unread.Reader.ReadAsync(cancellationToken);
            if (match(frame))
            {
                return frame;
            }
        }
    }

    public Task<ReceivedFrame> NextAsync(string eventName, CancellationToken cancellationToken) =>
        NextAsync(f => f.Event == eventName, cancellationToken);

    public Task SendMediaAsync(byte[] audio, CancellationToken cancellationToken) =>
        SendTextAsync(JsonSerializer.Serialize(new { @event = "media", media = new { payload = Convert.ToBase64String(audio) } }), cancellationToken);

    public Task SendMarkAsync(string name, CancellationToken cancellationToken) =>
        SendTextAsync(JsonSerializer.Serialize(new { @event = "mark", mark = new { name } }), cancellationToken);

    public Task SendClearAsync(CancellationToken cancellationToken) => SendTextAsync("""{"event":"clear"}""", cancellationToken);

    public Task SendTextAsync(string text, CancellationToken cancellationToken) =>
        SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, cancellationToken);

    public async Task SendAsync(byte[] data, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await socket.SendAsync(data, type, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    internal async Task ReceiveUntilClosedAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await CloseAsync(CancellationToken.None);
                }

                _unread.Writer.TryComplete();
                return;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                Assert.Equal(WebSocketMessageType.Text, result.MessageType);
                var frame = new ReceivedFrame(Now, JsonDocument.Parse(message.ToArray()).RootElement.Clone());
                message.SetLength(0);
                lock (_received)
                {
                    _received.Add(frame);
                }

                _unread.Writer.TryWrite(frame);
            }
        }
    }
}
