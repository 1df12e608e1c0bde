using TelnyxAiService.Audio;
using TelnyxAiService.Configuration;
using TelnyxAiService.Providers;
using TelnyxAiService.Security;
using TelnyxAiService.Telephony.Telnyx;
using TelnyxAiService.Telephony.Telnyx.MediaStream;

namespace TelnyxAiService.Telephony;

public static class TelephonyRegistration
{
    public static IServiceCollection AddTelephony(this IServiceCollection services)
    {
        services.AddSettings(TelnyxOptions.Read);
        services.AddTelnyxCallControl();
        services.AddSingleton<TelnyxWebhookGate>();
        services.AddSingleton<FrameClock>();
        services.AddSingleton(sp =>
        {
            var telnyx = sp.GetRequiredService<TelnyxOptions>();
            if (!telnyx.Configured)
            {
                return new ProviderInfo("telephony", "telnyx", ProviderMode.Off, null);
            }

            var mode = telnyx.ApiBaseUrl.Host == "api.telnyx.com" ? ProviderMode.Vendor : ProviderMode.Emulator;
            return new ProviderInfo("telephony", "telnyx", mode, telnyx.ApiBaseUrl);
        });
        return services;
    }

    public static WebApplication MapTelnyxWebhooks(this WebApplication app)
    {
        var telnyx = app.Services.GetRequiredService<TelnyxOptions>();
        if (telnyx.Configured && !telnyx.VerifyWebhooks)
        {
            app.Logger.LogWarning("TELNYX_WEBHOOK_VERIFY=false: Telnyx webhooks are accepted WITHOUT signature verification");
        }

        app.MapPost(TelnyxWebhookEndpoint.Path, TelnyxWebhookEndpoint.HandleAsync).WithRequestSizeLimit(TelnyxWebhookEndpoint.MaxBodyBytes).RequireTelephony();
        return app;
    }

    /// <summary>Without TELNYX_API_KEY the endpoint answers 503 and says what to set.</summary>
    public static TBuilder RequireTelephony<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
            context.HttpContext.RequestServices.GetRequiredService<TelnyxOptions>().Configured
                ? await next(context)
                : Results.Problem(
                    "Set TELNYX_API_KEY, TELNYX_CONNECTION_ID, TELNYX_PHONE_NUMBER and WEBHOOK_BASE_URL to place and take phone calls (`telnyx-ai-service emulate` prints settings for local emulators). Browser calls work without them.",
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Telephony is not configured"));

    public static WebApplication MapMediaStream(this WebApplication app)
    {
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.Map(MediaStreamEndpoint.Path, MediaStreamEndpoint.HandleAsync).DisableRequestTimeout();
        return app;
    }
}
