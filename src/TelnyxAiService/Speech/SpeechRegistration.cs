using TelnyxAiService.Configuration;
using TelnyxAiService.Speech.Deepgram;

namespace TelnyxAiService.Speech;

public static class SpeechRegistration
{
    /// <summary>Speech-to-text: Deepgram when DEEPGRAM_API_KEY is set.</summary>
    public static IServiceCollection AddSpeech(this IServiceCollection services)
    {
        services.AddSettings(DeepgramOptions.Read);
        services.AddSingleton<ISpeechToText>(sp => Deepgram(sp) is not null
            ? ActivatorUtilities.CreateInstance<DeepgramSpeechToText>(sp)
            : throw NotConfigured());
        services.AddSingleton(sp => Deepgram(sp)?.ProviderInfo ?? throw NotConfigured());
        return services;
    }

    private static DeepgramOptions? Deepgram(IServiceProvider services) =>
        services.GetRequiredService<DeepgramOptions>() is { IsConfigured: true } options ? options : null;

    private static InvalidSettingException NotConfigured() =>
        new("DEEPGRAM_API_KEY", "is required: no other speech-to-text engine is registered");
}
