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
            var mode = telnyx.ApiBaseUrl.Host == "api.telnyx.com" ? ProviderMode.Vendor : ProviderMode.Emulator;
            return new ProviderInfo("telephony", "telnyx", mode, telnyx.ApiBaseUrl);
        });
        return services;
    }

    public static WebApplication MapTelnyxWebhooks(this WebApplication app)
    {
        var telnyx = app.Services.GetRequiredService<TelnyxOptions>();
        if (!telnyx.VerifyWebhooks)
        {
            app.Logger.LogWarning("TELNYX_WEBHOOK_VERIFY=false: Telnyx webhooks are accepted WITHOUT signature verification");
        }

        app.MapPost(TelnyxWebhookEndpoint.Path, TelnyxWebhookEndpoint.HandleAsync).WithRequestSizeLimit(TelnyxWebhookEndpoint.MaxBodyBytes);
        return app;
    }

    public static WebApplication MapMediaStream(this WebApplication app)
    {
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.Map(MediaStreamEndpoint.Path, MediaStreamEndpoint.HandleAsync).DisableRequestTimeout();
        return app;
    }
}
