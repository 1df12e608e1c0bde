using TelnyxAiService.Configuration;
using TelnyxAiService.Voice.ElevenLabs;

namespace TelnyxAiService.Voice;

public static class VoiceRegistration
{
    /// <summary>Text-to-speech: ElevenLabs when ELEVENLABS_API_KEY is set.</summary>
    public static IServiceCollection AddVoice(this IServiceCollection services)
    {
        services.AddSettings(ElevenLabsOptions.Read);
        services.AddHttpClient<ElevenLabsTextToSpeech>(http => http.Timeout = TimeSpan.FromSeconds(30));
        services.AddTransient<ITextToSpeech>(sp => sp.GetRequiredService<ElevenLabsOptions>().IsConfigured
            ? sp.GetRequiredService<ElevenLabsTextToSpeech>()
            : throw NoVoice());
        services.AddSingleton(sp => sp.GetRequiredService<ElevenLabsOptions>() is { IsConfigured: true } elevenLabs
            ? elevenLabs.ProviderInfo
            : throw NoVoice());
        return services;
    }

    private static InvalidOperationException NoVoice() =>
        new("No text-to-speech provider is configured: set ELEVENLABS_API_KEY.");
}
