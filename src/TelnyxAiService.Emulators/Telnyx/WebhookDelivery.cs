using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;

namespace TelnyxAiService.Emulators.Telnyx;

/// <summary>A webhook waiting for delivery: the serialized <c>data</c> object (meta is added per attempt).</summary>
internal sealed record PendingWebhook(string EventType, string EventId, string? CallControlId, string DataJson);

/// <summary>Posts signed webhooks with Telnyx's envelope, retrying while the receiver does not answer 2xx.</summary>
internal sealed class WebhookDelivery(
    HttpClient http,
    WebhookSigner signer,
    TelnyxEmulatorOptions options,
    RecordLog<DeliveredWebhook> log)
{
    public async Task DeliverAsync(Uri url, PendingWebhook webhook, CancellationToken cancellationToken)
    {
        for (var copy = 0; copy < (options.DuplicateWebhooks ? 2 : 1); copy++)
        {
            for (var attempt = 1; attempt <= options.WebhookAttempts; attempt++)
            {
                if (await AttemptAsync(url, webhook, attempt, cancellationToken))
                {
                    break;
                }

                if (attempt < options.WebhookAttempts)
                {
                    await Task.Delay(options.WebhookRetryDelay * attempt, options.TimeProvider, cancellationToken);
                }
            }
        }
    }

    private async Task<bool> AttemptAsync(Uri url, PendingWebhook webhook, int attempt, CancellationToken cancellationToken)
    {
        var body = Envelope(webhook.DataJson, attempt, url);
        var now = options.TimeProvider.GetUtcNow();
        var timestamp = now.ToUnixTimeSeconds();
        var signature = signer.Sign(timestamp, body);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("telnyx-signature-ed25519", signature);
        request.Headers.Add("telnyx-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.UserAgent.ParseAdd("telnyx-webhooks");

        int? status = null;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                using var response = await http.SendAsync(request, timeout.Token);
                status = (int)response.StatusCode;
            }
            catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
            }
        }

        log.Add(new DeliveredWebhook(now, webhook.EventType, webhook.EventId, webhook.CallControlId, attempt, url, body, signature, timestamp.ToString(CultureInfo.InvariantCulture), status));
        return status is >= 200 and < 300;
    }

    private static byte[] Envelope(string dataJson, int attempt, Uri url)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("data");
            writer.WriteRawValue(dataJson, skipInputValidation: true);
            writer.WriteStartObject("meta");
            writer.WriteNumber("attempt", attempt);
            writer.WriteString("delivered_to", url.ToString());
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}

/// <summary>The ordered webhook queue of one call; one loop delivers it.</summary>
internal sealed class WebhookQueue(Uri url, WebhookDelivery delivery, bool reorder)
{
    private readonly Channel<PendingWebhook> _channel = Channel.CreateBounded<PendingWebhook>(
        new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public ValueTask EnqueueAsync(PendingWebhook webhook, CancellationToken cancellationToken) =>
        _channel.Writer.WriteAsync(webhook, cancellationToken);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (await _channel.Reader.WaitToReadAsync(cancellationToken))
        {
            if (!_channel.Reader.TryRead(out var first))
            {
                continue;
            }

            if (reorder && _channel.Reader.TryRead(out var second))
            {
                await delivery.DeliverAsync(url, second, cancellationToken);
            }

            await delivery.DeliverAsync(url, first, cancellationToken);
        }
    }
}
