namespace TelnyxAiService.Llm.Claude;

/// <summary>What a failed response said about retrying: <c>retry-after-ms</c>, <c>retry-after</c>, <c>x-should-retry</c>.</summary>
internal sealed class RetryHint
{
    public TimeSpan? RetryAfter { get; set; }

    public bool? ShouldRetry { get; set; }
}

/// <summary>
/// Reads the retry headers of error responses into the <see cref="RetryHint"/> of the current attempt, which
/// <see cref="ClaudeAgent"/> sets before it sends: the SDK's exceptions carry the status and body but neither the
/// headers nor the response, so this handler is the only place that sees them.
/// </summary>
internal sealed class RetryHintHandler(TimeProvider time) : DelegatingHandler
{
    public static readonly AsyncLocal<RetryHint?> Current = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var hint = Current.Value;
        var response = await base.SendAsync(request, cancellationToken);
        if (hint is not null && !response.IsSuccessStatusCode)
        {
            hint.RetryAfter = Resilience.RetryAfter.Of(response, time);
            if (response.Headers.TryGetValues("x-should-retry", out var values) && bool.TryParse(values.First(), out var shouldRetry))
            {
                hint.ShouldRetry = shouldRetry;
            }
        }

        return response;
    }
}
