using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TelnyxAiService.Emulators;
using TelnyxAiService.Telephony.Telnyx;

namespace TelnyxAiService.Tests.Telephony;

/// <summary>Stands in for our service's webhook endpoint and audio files: records what Telnyx (the emulator) sends.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly EmulatorHost _host;
    private int _failuresLeft;

    private WebhookReceiver(EmulatorHost host) => _host = host;

    public Uri BaseUrl => _host.BaseUrl;

    /// <summary>A base with a path, as WEBHOOK_BASE_URL would be; webhooks arrive at {base}/webhook/telnyx.</summary>
    public Uri WebhookBaseUrl => new($"{BaseUrl.ToString().TrimEnd('/')}/hooks");

    public Uri WebhookUrl => new($"{WebhookBaseUrl}/webhook/telnyx");

    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    /// <summary>Answers 500 to the first <paramref name="failFirst"/> webhooks; serves any /audio/*.wav except missing.wav.</summary>
    public static async Task<WebhookReceiver> StartAsync(int failFirst = 0)
    {
        WebhookReceiver? receiver = null;
        var host = await EmulatorHost.StartAsync(app =>
        {
            app.MapPost("/hooks/webhook/telnyx", async (HttpContext context) =>
            {
                using var buffer = new MemoryStream();
                await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
                receiver!._received.Enqueue(new ReceivedWebhook(
                    buffer.ToArray(),
                    context.Request.Headers["telnyx-signature-ed25519"].FirstOrDefault(),
                    context.Request.Headers["telnyx-timestamp"].FirstOrDefault()));
                return Interlocked.Decrement(ref receiver._failuresLeft) >= 0 ? Results.StatusCode(500) : Results.Ok();
            });
            app.MapGet("/audio/{name}", (string name) => name == "missing.wav"
                ? Results.NotFound()
                : Results.Bytes(new byte[4000], "audio/wav"));
        }, cancellationToken: TestContext.Current.CancellationToken);
        receiver = new WebhookReceiver(host) { _failuresLeft = failFirst };
        return receiver;
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}

internal sealed record ReceivedWebhook(byte[] Body, string? Signature, string? Timestamp)
{
    public TelnyxWebhookEvent Event =>
        TelnyxWebhookEvent.TryParse(Body, out var evt, out var error) ? evt! : throw new InvalidOperationException(error);
}
