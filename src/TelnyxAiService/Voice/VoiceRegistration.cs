namespace TelnyxAiService.Voice;

public static class VoiceRegistration
{
    public static IServiceCollection AddVoice(this IServiceCollection services) => services;
}
