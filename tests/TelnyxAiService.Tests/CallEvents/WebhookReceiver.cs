using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.CallEvents;

/// <summary>One POST as the receiver saw it: its event id header, whether its signature and timestamp held, and what it answered.</summary>
public sealed record ReceivedEvent(string? EventId, bool SignatureValid, long Timestamp, JsonElement Body, int Answered);

/// <summary>
/// A receiver of the end-of-call webhook on a real loopback port, as a user would write one: it checks the
/// <c>Telnyx-AI-Signature</c> header (HMAC-SHA256 of "t.body" with the shared secret, at most 5 minutes old) and answers
/// each POST with the status <see cref="Answer"/> gives for its number (1 for the first).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public const string Secret = "receiver-secret-0123456789";

    private readonly WebApplication app;
    private readonly ConcurrentQueue<ReceivedEvent> received = new();
    private int count;

    private WebhookReceiver(WebApplication app, int port)
    {
        this.app = app;
        Url = new Uri($"http://127.0.0.1:{port}/hooks/calls");
    }

    public Uri Url { get; }

    public Func<int, int> Answer { get; init; } = _ => StatusCodes.Status200OK;

    public IReadOnlyList<ReceivedEvent> Received => [.. received];

    public static async Task<WebhookReceiver> StartAsync(Func<int, int> answer, CancellationToken cancellationToken, int? port = null)
    {
        var listen = port ?? ServiceProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{listen}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, listen) { Answer = answer };
        app.MapPost("/hooks/calls", receiver.ReceiveAsync);
        await app.StartAsync(cancellationToken);
        return receiver;
    }

    /// <summary>The receiver's check, written from the README's recipe.</summary>
    public static bool Verify(string? header, byte[] body, string secret, DateTimeOffset now, out long timestamp)
    {
        timestamp = 0;
        var parts = (header ?? "").Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1)
            || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out timestamp))
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes($"{t}."), .. body]);
        return CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(v1))
            && Math.Abs(now.ToUnixTimeSeconds() - timestamp) <= 300;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    private async Task ReceiveAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        var body = buffer.ToArray();
        var valid = Verify(http.Request.Headers["Telnyx-AI-Signature"], body, Secret, DateTimeOffset.UtcNow, out var timestamp);
        var status = Answer(Interlocked.Increment(ref count));
        received.Enqueue(new ReceivedEvent(http.Request.Headers["Telnyx-AI-Event-Id"], valid, timestamp, JsonDocument.Parse(body).RootElement.Clone(), status));
        http.Response.StatusCode = status;
    }
}
