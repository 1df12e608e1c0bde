using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TelnyxAiService.Emulators.Deepgram;

/// <summary>
/// Deepgram live streaming (v1) on loopback: <c>GET /v1/listen</c> upgraded to a WebSocket, authenticated with
/// <c>Authorization: Token &lt;key&gt;</c>. It detects bursts of speech by energy and answers each with the next
/// scripted transcript, using the real message shapes and turn semantics (see <see cref="ListenSession"/>).
/// </summary>
public sealed class DeepgramEmulator : IAsyncDisposable
{
    private readonly DeepgramEmulatorOptions _options;
    private readonly ConcurrentQueue<DeepgramConnection> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private EmulatorHost? _host;
    private int _handshakes;
    private int _accepted;

    private DeepgramEmulator(DeepgramEmulatorOptions options)
    {
        _options = options;
        Segments = new ConcurrentQueue<string>(options.Segments);
    }

    /// <summary>ws://127.0.0.1:PORT/v1/listen: the value for DEEPGRAM_URL.</summary>
    public Uri ListenUrl => new($"ws://{_host!.BaseUrl.Authority}/v1/listen");

    public string ApiKey => _options.ApiKey;

    /// <summary>The shared script: each burst of speech takes the next transcript (see <see cref="DeepgramEmulatorOptions.Segments"/>).</summary>
    public ConcurrentQueue<string> Segments { get; }

    /// <summary>Every request to /v1/listen so far, accepted or not.</summary>
    public int HandshakeCount => Volatile.Read(ref _handshakes);

    /// <summary>The accepted connections, in order.</summary>
    public IReadOnlyList<DeepgramConnection> Connections => [.. _connections.OrderBy(c => c.Index)];

    public static async Task<DeepgramEmulator> StartAsync(DeepgramEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        var emulator = new DeepgramEmulator(options ?? new DeepgramEmulatorOptions());
        emulator._host = await EmulatorHost.StartAsync(app => app.Map("/v1/listen", emulator.HandleAsync), emulator._options.Port, cancellationToken);
        return emulator;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var handshake = Interlocked.Increment(ref _handshakes) - 1;
        var requestId = Guid.NewGuid().ToString();
        context.Response.Headers["dg-request-id"] = requestId;
        if (context.Request.Headers.Authorization.ToString() != $"Token {_options.ApiKey}")
        {
            await RejectAsync(context, StatusCodes.Status401Unauthorized, ListenMessages.Error("INVALID_AUTH", "Invalid credentials.", requestId));
            return;
        }

        if (_options.UnavailableHandshakes.Contains(handshake))
        {
            await RejectAsync(context, StatusCodes.Status503ServiceUnavailable, ListenMessages.Error("SERVICE_UNAVAILABLE", "Service unavailable, try again.", requestId));
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RejectAsync(context, StatusCodes.Status400BadRequest, ListenMessages.Error("Bad Request", "Expected a WebSocket upgrade.", requestId));
            return;
        }

        if (!ListenSettings.TryParse(context.Request.Query, out var settings, out var error))
        {
            await RejectAsync(context, StatusCodes.Status400BadRequest, ListenMessages.Error("Bad Request", error, requestId));
            return;
        }

        var connection = new DeepgramConnection(Interlocked.Increment(ref _accepted) - 1, context.Request);
        _connections.Enqueue(connection);
        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            using var session = new ListenSession(socket, settings, connection, _options, NextText(connection.Index), context.Abort);
            await session.RunAsync(stop.Token);
        }
        finally
        {
            connection.End();
        }
    }

    private Func<string> NextText(int connectionIndex)
    {
        if (_options.ScriptForConnection is { } script)
        {
            var lines = script(connectionIndex);
            var next = 0;
            return () => next < lines.Count ? lines[next++] : _options.DefaultText;
        }

        return () => Segments.TryDequeue(out var text) ? text : _options.DefaultText;
    }

    private static Task RejectAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body, context.RequestAborted);
    }
}
