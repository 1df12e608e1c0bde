using TelnyxAiService.Configuration;
using TelnyxAiService.Providers;
using TelnyxAiService.Speech.Deepgram;
using TelnyxAiService.Speech.Pocketsphinx;

namespace TelnyxAiService.Speech;

public static class SpeechRegistration
{
    /// <summary>Speech-to-text: Deepgram when DEEPGRAM_API_KEY is set, otherwise pocketsphinx in-process (English, 16 kHz).</summary>
    public static IServiceCollection AddSpeech(this IServiceCollection services)
    {
        services.AddSettings(DeepgramOptions.Read);
        services.AddSettings(PocketsphinxOptions.Read);
        services.AddSingleton<ISpeechToText>(sp => Deepgram(sp) is not null
            ? ActivatorUtilities.CreateInstance<DeepgramSpeechToText>(sp)
            : ActivatorUtilities.CreateInstance<PocketsphinxSpeechToText>(sp));
        services.AddSingleton(sp => Deepgram(sp)?.ProviderInfo ?? new ProviderInfo("speech-to-text", "pocketsphinx", ProviderMode.Offline, null));
        services.AddSingleton(new SettingsCheck(sp => sp.GetRequiredService<ISpeechToText>()));
        return services;
    }

    private static DeepgramOptions? Deepgram(IServiceProvider services) =>
        services.GetRequiredService<DeepgramOptions>() is { IsConfigured: true } options ? options : null;
}
