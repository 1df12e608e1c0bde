using TelnyxAiService.Configuration;
using TelnyxAiService.Providers;
using TelnyxAiService.Voice.ElevenLabs;
using TelnyxAiService.Voice.Flite;

namespace TelnyxAiService.Voice;

public static class VoiceRegistration
{
    /// <summary>Text-to-speech: ElevenLabs when ELEVENLABS_API_KEY is set, otherwise flite (espeak-ng for other languages).</summary>
    public static IServiceCollection AddVoice(this IServiceCollection services)
    {
        services.AddSettings(ElevenLabsOptions.Read);
        services.AddHttpClient<ElevenLabsTextToSpeech>(http => http.Timeout = TimeSpan.FromSeconds(30));
        services.AddSettings(FliteOptions.Read);
        services.AddSingleton<FliteTextToSpeech>();
        services.AddTransient<ITextToSpeech>(sp => sp.GetRequiredService<ElevenLabsOptions>().IsConfigured
            ? sp.GetRequiredService<ElevenLabsTextToSpeech>()
            : sp.GetRequiredService<FliteTextToSpeech>());
        services.AddSingleton(sp => sp.GetRequiredService<ElevenLabsOptions>() is { IsConfigured: true } elevenLabs
            ? elevenLabs.ProviderInfo
            : new ProviderInfo("text-to-speech", "flite", ProviderMode.Offline, null));
        services.AddSingleton(new SettingsCheck(sp => sp.GetRequiredService<ITextToSpeech>()));
        return services;
    }
}
