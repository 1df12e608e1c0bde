namespace TelnyxAiService.Llm;

public static class LlmRegistration
{
    public static IServiceCollection AddLlm(this IServiceCollection services) => services;
}
