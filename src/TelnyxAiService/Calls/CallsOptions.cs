using TelnyxAiService.Audio;
using TelnyxAiService.Configuration;

namespace TelnyxAiService.Calls;

/// <summary>
/// How this instance dials: MAX_CONCURRENT_CALLS live dialled calls (API and batches together), CALLS_PER_SECOND batch
/// dials, MAX_QUEUED_CALLS numbers waiting in open batches, where it may dial (<see cref="DestinationPolicy"/>) and the
/// media stream's audio (MEDIA_CODEC: PCMU or PCMA at 8 kHz, L16 at 16 kHz; default PCMU).
/// </summary>
public sealed record CallsOptions(int MaxConcurrentCalls, double CallsPerSecond, int MaxQueuedCalls, DestinationPolicy Destinations, AudioFormat MediaCodec)
{
    public static CallsOptions Read(SettingsReader settings) => new(
        settings.Int("MAX_CONCURRENT_CALLS", 10, 1, 1000),
        settings.Double("CALLS_PER_SECOND", 5, 0.01, 1000),
        settings.Int("MAX_QUEUED_CALLS", 10_000, 1, 1_000_000),
        DestinationPolicy.Read(settings),
        settings.Text("MEDIA_CODEC", "PCMU").ToUpperInvariant() switch
        {
            "PCMU" => AudioFormat.Pcmu8k,
            "PCMA" => AudioFormat.Pcma8k,
            "L16" => AudioFormat.L16At16k,
            var other => throw new InvalidSettingException("MEDIA_CODEC", $"must be PCMU, PCMA or L16, got '{other}'"),
        });
}
