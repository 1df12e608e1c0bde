using TelnyxAiService.Configuration;

namespace TelnyxAiService.Failover;

public static class FailoverRegistration
{
    /// <summary>This run's lease, the takeover of lapsed ones, and the drain on SIGTERM (<see cref="CallLeases"/>).</summary>
    public static IServiceCollection AddFailover(this IServiceCollection services)
    {
        services.AddSettings(FailoverOptions.Read);
        services.AddOptions<HostOptions>().Configure<FailoverOptions>((host, failover) => host.ShutdownTimeout = failover.Drain + FailoverOptions.StopMargin);
        services.AddHostedService<CallLeases>();
        return services;
    }
}
