using TelnyxAiService.Configuration;

namespace TelnyxAiService.Calls;

/// <summary>
/// How much this instance may dial: MAX_CONCURRENT_CALLS live dialled calls (API and campaigns together),
/// CALLS_PER_SECOND campaign dials, MAX_QUEUED_CALLS numbers waiting in open campaigns, and where it may dial
/// (<see cref="DestinationPolicy"/>).
/// </summary>
public sealed record CallsOptions(int MaxConcurrentCalls, double CallsPerSecond, int MaxQueuedCalls, DestinationPolicy Destinations)
{
    public static CallsOptions Read(SettingsReader settings) => new(
        settings.Int("MAX_CONCURRENT_CALLS", 10, 1, 1000),
        settings.Double("CALLS_PER_SECOND", 5, 0.01, 1000),
        settings.Int("MAX_QUEUED_CALLS", 10_000, 1, 1_000_000),
        DestinationPolicy.Read(settings));
}
