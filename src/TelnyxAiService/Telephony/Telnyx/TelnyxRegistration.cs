using System.Net.Http.Headers;
using TelnyxAiService.Configuration;

namespace TelnyxAiService.Telephony.Telnyx;

public static class TelnyxRegistration
{
    /// <summary>
    /// Registers <see cref="ICallControl"/> as a typed, pooled HttpClient talking to TELNYX_API_BASE_URL.
    /// Needs <see cref="TelnyxOptions"/> and a <see cref="TimeProvider"/> registered.
    /// </summary>
    public static IServiceCollection AddTelnyxCallControl(this IServiceCollection services)
    {
        services.AddSettings(TelnyxCommandSettings.Read);
        services.AddHttpClient<ICallControl, TelnyxCallControl>((sp, client) =>
        {
            var options = sp.GetRequiredService<TelnyxOptions>();
            client.BaseAddress = new Uri(options.ApiBaseUrl.ToString().TrimEnd('/') + "/");
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
            client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            client.Timeout = Timeout.InfiniteTimeSpan; // each attempt is timed by TelnyxCallControl, on the injected clock
        });
        return services;
    }
}
