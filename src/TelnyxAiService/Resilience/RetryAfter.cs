using System.Globalization;

namespace TelnyxAiService.Resilience;

/// <summary>How long a server that refused a request asked us to wait before trying again.</summary>
internal static class RetryAfter
{
    /// <summary>
    /// The first of <c>retry-after-ms</c> (Anthropic), <c>Retry-After</c> in seconds or as a date, and
    /// <c>x-ratelimit-reset</c> in seconds (Telnyx); null when the response names no wait.
    /// </summary>
    public static TimeSpan? Of(HttpResponseMessage response, TimeProvider time)
    {
        if (Number(response, "retry-after-ms") is { } milliseconds)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => Number(response, "retry-after") is { } seconds ? TimeSpan.FromSeconds(seconds)
                : Number(response, "x-ratelimit-reset") is { } reset ? TimeSpan.FromSeconds(reset)
                : null,
        };
    }

    private static double? Number(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values)
        && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0
            ? number
            : null;
}
