using TelnyxAiService.Configuration;

namespace TelnyxAiService.Conversation;

public static class ConversationRegistration
{
    public static IServiceCollection AddConversation(this IServiceCollection services)
    {
        services.AddSettings(ConversationOptions.Read);
        services.AddSingleton<CallStats>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<CallControlConversation>();
        services.AddSingleton<ConversationServices>();
        services.AddSingleton<CallSupervisor>();
        services.AddHostedService(sp => sp.GetRequiredService<CallSupervisor>());
        return services;
    }
}
