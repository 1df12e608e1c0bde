using TelnyxAiService.Configuration;

namespace TelnyxAiService.CallEvents;

public static class CallEventsRegistration
{
    /// <summary>
    /// Registers <see cref="CallEventsOptions"/>, the <see cref="CallEventOutbox"/> the call store queues ended calls in,
    /// and the background <see cref="CallEventSender"/> with its HTTP client (redirects are not followed: a 3xx is a
    /// failed attempt). Everything is idle unless CALL_EVENTS_URL is set.
    /// </summary>
    public static IServiceCollection AddCallEvents(this IServiceCollection services)
    {
        services.AddSettings(CallEventsOptions.Read);
        services.AddSingleton<CallEventOutbox>();
        services.AddHttpClient(CallEventSender.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddHostedService<CallEventSender>();
        return services;
    }
}
