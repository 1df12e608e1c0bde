namespace TelnyxAiService.Security;

public static class SecurityRegistration
{
    public static IServiceCollection AddSecurity(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<EdgeRefusals>();
        return services;
    }
}
