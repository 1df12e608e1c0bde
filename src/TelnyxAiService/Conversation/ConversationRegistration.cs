namespace TelnyxAiService.Conversation;

public static class ConversationRegistration
{
    public static IServiceCollection AddConversation(this IServiceCollection services) => services;
}
