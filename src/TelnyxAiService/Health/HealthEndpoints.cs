using System.Diagnostics;
using System.Reflection;

namespace TelnyxAiService.Health;

public static class HealthEndpoints
{
    public static IServiceCollection AddHealth(this IServiceCollection services) => services;

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var version = typeof(HealthEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        app.MapGet("/api/health", () => Results.Ok(new
        {
            Status = "ok",
            Version = version.Split('+')[0],
            UptimeSeconds = (long)(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds,
        }));
        return app;
    }
}
