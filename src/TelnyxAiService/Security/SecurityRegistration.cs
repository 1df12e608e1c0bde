using Microsoft.AspNetCore.Authentication;
using TelnyxAiService.Configuration;

namespace TelnyxAiService.Security;

public static partial class SecurityRegistration
{
    /// <summary>Refusal counting, and the API's access rule (<see cref="ApiKeyAuthentication"/>) as the "Api" policy.</summary>
    public static IServiceCollection AddSecurity(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<EdgeRefusals>();
        services.AddSettings(ApiAccessOptions.Read);
        // The authentication core without AddAuthentication's data protection: nothing here issues cookies or tokens,
        // and data protection would load (or create) a key ring of XML files at every start.
        services.AddAuthenticationCore(o => o.DefaultScheme = ApiKeyAuthentication.SchemeName);
        services.AddWebEncoders();
        new AuthenticationBuilder(services)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyAuthentication.Policy, p => p.AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName).RequireAuthenticatedUser());
        return services;
    }

    /// <summary>Says once, at startup, who can reach the API.</summary>
    public static void ReportApiAccess(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("TelnyxAiService.Security");
        if (app.Services.GetRequiredService<ApiAccessOptions>().ApiKey is null)
        {
            LogLocalOnly(logger);
        }
        else
        {
            LogKeyed(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "API_KEY is not set: /api/* (but /api/health) answers only requests made on this machine; set API_KEY to use the API from the network")]
    private static partial void LogLocalOnly(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "API: /api/* (but /api/health) needs Authorization: Bearer $API_KEY")]
    private static partial void LogKeyed(ILogger logger);
}
