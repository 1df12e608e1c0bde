using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace TelnyxAiService.Security;

/// <summary>
/// The request limits, set on purpose: small headers, a bounded body per endpoint (routing applies
/// <see cref="BodyLimit"/>; 64 KiB where an endpoint says nothing), a client must send its headers within 10 s and
/// its body at 240 B/s or more after a 5 s grace, and a request the service cannot finish in 30 s gets 503. A refused
/// body closes its connection cleanly (<c>Connection: close</c>), so the client is never left with a broken one.
/// </summary>
public static class RequestLimits
{
    public const long DefaultBodyBytes = 64 * 1024;
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static void Apply(KestrelServerLimits limits)
    {
        limits.MaxRequestBodySize = DefaultBodyBytes;
        limits.MaxRequestHeadersTotalSize = 16 * 1024;
        limits.MaxRequestHeaderCount = 64;
        limits.MaxRequestLineSize = 8 * 1024;
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(120);
        limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
    }

    /// <summary>Caps this endpoint's request body at <paramref name="bytes"/>.</summary>
    public static TBuilder WithRequestSizeLimit<TBuilder>(this TBuilder builder, long bytes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodyLimit(bytes));

    /// <summary>Adds <c>Connection: close</c> to every 413, so an unread body never breaks the next request on the connection.</summary>
    public static IApplicationBuilder UseCleanRefusals(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        http.Response.OnStarting(() =>
        {
            if (http.Response.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                http.Response.Headers.Connection = "close";
            }

            return Task.CompletedTask;
        });
        return next(http);
    });

    private sealed record BodyLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
}
