namespace TelnyxAiService.Calls;

public static class CallsRegistration
{
    public static IServiceCollection AddCalls(this IServiceCollection services) => services;

    public static IEndpointRouteBuilder MapCalls(this IEndpointRouteBuilder app) => app;

    public static WebApplication UseApiKey(this WebApplication app) => app;
}
