using TelnyxAiService.Configuration;

namespace TelnyxAiService.Failover;

/// <summary>How calls outlive the process that runs them.</summary>
/// <param name="Lease">
/// LEASE_SECONDS (default 15): how long this run's lease lasts without renewal. It is renewed every third of that; once
/// it lapses (the process died or lost the database), another instance sharing the database takes over its live calls
/// and claimed batch items.
/// </param>
/// <param name="Drain">
/// DRAIN_SECONDS (default 10): on SIGTERM, how long live calls may go on here before they are handed over to the
/// instance that takes the lease (the restarted one, or another). Nothing new is dialled or claimed meanwhile.
/// </param>
public sealed record FailoverOptions(TimeSpan Lease, TimeSpan Drain)
{
    /// <summary>How much longer than the drain the host waits for everything to stop.</summary>
    public static readonly TimeSpan StopMargin = TimeSpan.FromSeconds(15);

    public TimeSpan Heartbeat => Lease / 3;

    public static FailoverOptions Read(SettingsReader settings) => new(
        TimeSpan.FromSeconds(settings.Double("LEASE_SECONDS", 15, 3, 600)),
        TimeSpan.FromSeconds(settings.Double("DRAIN_SECONDS", 10, 0, 3600)));
}
