using TelnyxAiService.Configuration;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Voice.ElevenLabs;

/// <summary>ElevenLabs text-to-speech settings. No API key means ElevenLabs is not configured.</summary>
public sealed record ElevenLabsOptions(string? ApiKey, string VoiceId, string ModelId, Uri BaseUrl, string LanguageCode)
{
    public const string DefaultBaseUrl = "https://api.elevenlabs.io";
    public const string DefaultVoiceId = "21m00Tcm4TlvDq8ikWAM";
    public const string DefaultModelId = "eleven_flash_v2_5";

    public bool IsConfigured => ApiKey is not null;

    /// <summary>The /api/health line: the vendor when the host is api.elevenlabs.io, an emulator otherwise.</summary>
    public ProviderInfo ProviderInfo => new(
        "text-to-speech",
        "elevenlabs",
        BaseUrl.Host == "api.elevenlabs.io" ? ProviderMode.Vendor : ProviderMode.Emulator,
        BaseUrl);

    /// <summary>Everything but the API key, so the settings can be logged.</summary>
    public override string ToString() => $"ElevenLabs voice {VoiceId}, model {ModelId}, language {LanguageCode}, at {BaseUrl}";

    public static ElevenLabsOptions Read(SettingsReader settings)
    {
        var language = settings.AgentLanguage();

        return new ElevenLabsOptions(
            settings.Optional("ELEVENLABS_API_KEY"),
            settings.Text("ELEVENLABS_VOICE_ID", DefaultVoiceId),
            settings.Text("ELEVENLABS_MODEL", DefaultModelId),
            settings.Url("ELEVENLABS_BASE_URL", DefaultBaseUrl, "https", "http")!,
            language[..2].ToLowerInvariant());
    }

}
