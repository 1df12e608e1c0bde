using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using TelnyxAiService.Security;

namespace TelnyxAiService.Llm.Claude;

/// <summary>
/// The streaming Messages API on the wire (protocols.md §4): the request, what an error response says, and the
/// server-sent events the agent acts on. Events of other types (message_start, ping, new ones) are skipped unread;
/// the reply ends at message_stop.
/// </summary>
internal static class ClaudeMessages
{
    public const string ApiVersion = "2023-06-01";

    public static HttpRequestMessage Request(ClaudeOptions options, MessagesRequest body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"{options.BaseUrl.AbsoluteUri.TrimEnd('/')}/v1/messages"))
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, ClaudeJson.Default.MessagesRequest))
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
            },
        };
        request.Headers.Add("x-api-key", options.ApiKey);
        request.Headers.Add("anthropic-version", ApiVersion);
        return request;
    }

    /// <summary>
    /// An error response as a failure: <c>HTTP 429 rate_limit_error</c>, retryable as <c>x-should-retry</c> says or,
    /// without it, for 408, 429 and 5xx, with the wait the headers ask for.
    /// </summary>
    public static async Task<ClaudeApiException> ErrorOfAsync(HttpResponseMessage response, TimeProvider time, CancellationToken cancellationToken)
    {
        ApiError? error = null;
        try
        {
            error = JsonSerializer.Deserialize(await response.Content.ReadAsByteArrayAsync(cancellationToken), ClaudeJson.Default.ErrorResponse)?.Error;
        }
        catch (JsonException)
        {
        }

        var retryable = response.Headers.TryGetValues("x-should-retry", out var values) && bool.TryParse(values.First(), out var shouldRetry)
            ? shouldRetry
            : response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;
        return new ClaudeApiException(
            $"HTTP {(int)response.StatusCode} {LogText.Escape(error?.Type)}".TrimEnd(),
            retryable,
            Resilience.RetryAfter.Of(response, time));
    }

    /// <summary>The events of a successful response, up to message_stop or the end of the body.</summary>
    /// <exception cref="ClaudeApiException">The response is not an event stream.</exception>
    /// <exception cref="JsonException">An event's data is not what its type requires.</exception>
    public static async IAsyncEnumerable<ClaudeEvent> EventsAsync(HttpResponseMessage response, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType != "text/event-stream")
        {
            throw new ClaudeApiException($"unexpected response (content type {LogText.Escape(mediaType ?? "none")})", retryable: false);
        }

        var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(body, Parse).EnumerateAsync(cancellationToken))
        {
            if (item.EventType == "message_stop")
            {
                yield break;
            }

            if (item.Data is { } parsed)
            {
                yield return parsed;
            }
        }
    }

    private static ClaudeEvent? Parse(string eventType, ReadOnlySpan<byte> data) => eventType switch
    {
        "content_block_start" => Read(data, ClaudeJson.Default.ContentBlockStart),
        "content_block_delta" => Read(data, ClaudeJson.Default.ContentBlockDelta),
        "content_block_stop" => Read(data, ClaudeJson.Default.ContentBlockStop),
        "message_delta" => Read(data, ClaudeJson.Default.MessageDelta),
        "error" => Read(data, ClaudeJson.Default.ErrorEvent),
        _ => null,
    };

    private static T Read<T>(ReadOnlySpan<byte> data, JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize(data, type) ?? throw new JsonException($"{typeof(T).Name} is null");
}

/// <summary>A failure the API reported: an error response, an <c>error</c> event, or a response that is no event stream.</summary>
internal sealed class ClaudeApiException(string reason, bool retryable, TimeSpan? retryAfter = null) : Exception(reason)
{
    public bool Retryable { get; } = retryable;

    /// <summary>The server's wait, from the response headers.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
