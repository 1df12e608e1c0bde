namespace TelnyxAiService.Speech;

public static class SpeechRegistration
{
    public static IServiceCollection AddSpeech(this IServiceCollection services) => services;
}
