using TelnyxAiService.Configuration;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Speech.Deepgram;

/// <summary>Deepgram live streaming settings. Without DEEPGRAM_API_KEY Deepgram is not configured.</summary>
public sealed record DeepgramOptions(
    string? ApiKey,
    Uri Url,
    string Model,
    string Language,
    int EndpointingMs,
    int UtteranceEndMs)
{
    public const string DefaultUrl = "wss://api.deepgram.com/v1/listen";

    public const string VendorHost = "api.deepgram.com";

    /// <summary>How long the audio may pause before a KeepAlive is sent (Deepgram closes after 10 s without either).</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(4);

    public bool IsConfigured => ApiKey is not null;

    public ProviderInfo ProviderInfo =>
        new("speech-to-text", "deepgram", Url.Host == VendorHost ? ProviderMode.Vendor : ProviderMode.Emulator, Url);

    public static DeepgramOptions Read(SettingsReader settings)
    {
        var url = settings.Url("DEEPGRAM_URL", DefaultUrl, "wss", "ws")!;
        if (url.AbsolutePath == "/")
        {
            url = new Uri(url, "/v1/listen");
        }

        return new DeepgramOptions(
            settings.Optional("DEEPGRAM_API_KEY"),
            url,
            settings.Text("DEEPGRAM_MODEL", "nova-3"),
            settings.AgentLanguage(),
            settings.Int("DEEPGRAM_ENDPOINTING_MS", 300, 10, 10_000),
            settings.Int("DEEPGRAM_UTTERANCE_END_MS", 1000, 1000, 10_000));
    }
}
