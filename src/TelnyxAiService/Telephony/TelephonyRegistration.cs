using TelnyxAiService.Configuration;
using TelnyxAiService.Telephony.Telnyx;

namespace TelnyxAiService.Telephony;

public static class TelephonyRegistration
{
    public static IServiceCollection AddTelephony(this IServiceCollection services)
    {
        services.AddSettings(TelnyxOptions.Read);
        return services;
    }

    public static IEndpointRouteBuilder MapTelnyxWebhooks(this IEndpointRouteBuilder app) => app;

    public static IEndpointRouteBuilder MapMediaStream(this IEndpointRouteBuilder app) => app;
}
