using TelnyxAiService.Configuration;

namespace TelnyxAiService.Calls;

/// <summary>The REST API's settings: its bearer key and how fast batches dial.</summary>
public sealed record CallsOptions(string? ApiKey, int MaxConcurrentCalls, double CallsPerSecond)
{
    public static CallsOptions Read(SettingsReader settings) => new(
        settings.Optional("API_KEY"),
        settings.Int("MAX_CONCURRENT_CALLS", 10, 1, 1000),
        settings.Double("CALLS_PER_SECOND", 5, 0.01, 1000));
}
