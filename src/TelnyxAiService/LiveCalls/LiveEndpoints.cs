using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace TelnyxAiService.LiveCalls;

/// <summary><c>GET /api/live</c>: the live calls as Server-Sent Events, open only as the API is.</summary>
public static class LiveEndpoints
{
    /// <summary>How long the stream may stay silent before a <see cref="Heartbeat"/> is sent.</summary>
    public static readonly TimeSpan HeartbeatEvery = TimeSpan.FromSeconds(15);

    public static IServiceCollection AddLiveCalls(this IServiceCollection services) => services.AddSingleton<LiveCallFeed>();

    public static IEndpointRouteBuilder MapLiveCalls(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/live", (string? call, LiveCallFeed feed, TimeProvider time, HttpContext http) =>
                TypedResults.ServerSentEvents(EventsAsync(feed.Watch(call, http.RequestAborted), time, http.RequestAborted)))
            .RequireAuthorization(Security.ApiKeyAuthentication.Policy)
            .DisableRequestTimeout();
        return app;
    }

    private static async IAsyncEnumerable<SseItem<LiveEvent>> EventsAsync(
        ChannelReader<LiveEvent> events, TimeProvider time, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await WaitAsync(events, time, cancellationToken) is { } more)
        {
            if (!more)
            {
                yield return new SseItem<LiveEvent>(new Heartbeat(time.GetUtcNow()));
            }

            while (events.TryRead(out var next))
            {
                yield return new SseItem<LiveEvent>(next);
            }
        }
    }

    /// <returns>True when events are waiting, false after <see cref="HeartbeatEvery"/> without any, null once the feed or the request ended.</returns>
    private static async Task<bool?> WaitAsync(ChannelReader<LiveEvent> events, TimeProvider time, CancellationToken cancellationToken)
    {
        using var quiet = new CancellationTokenSource(HeartbeatEvery, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(quiet.Token, cancellationToken);
        try
        {
            return await events.WaitToReadAsync(either.Token) ? true : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
