using System.Globalization;

namespace TelnyxAiService.Llm.Claude;

/// <summary>What a failed response said about retrying: <c>retry-after-ms</c>, <c>retry-after</c>, <c>x-should-retry</c>.</summary>
internal sealed class RetryHint
{
    public TimeSpan? RetryAfter { get; set; }

    public bool? ShouldRetry { get; set; }
}

/// <summary>
/// Reads the retry headers of error responses into the <see cref="RetryHint"/> of the current attempt: the SDK's
/// exceptions carry the status and body but not the headers.
/// </summary>
internal sealed class RetryHintHandler : DelegatingHandler
{
    public static readonly AsyncLocal<RetryHint?> Current = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var hint = Current.Value;
        var response = await base.SendAsync(request, cancellationToken);
        if (hint is not null && !response.IsSuccessStatusCode)
        {
            hint.RetryAfter = RetryAfter(response);
            if (response.Headers.TryGetValues("x-should-retry", out var values) && bool.TryParse(values.First(), out var shouldRetry))
            {
                hint.ShouldRetry = shouldRetry;
            }
        }

        return response;
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.First(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => null,
        };
    }
}
