using System.Diagnostics;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Timeouts;
using TelnyxAiService.Security;

namespace TelnyxAiService.Configuration;

public static class ServiceDefaults
{
    /// <summary>
    /// Port (PORT, default 3000), log level (LOG_LEVEL), JSON, problem details and request limits. PORT and LOG_LEVEL are
    /// read here, before the host is built; a bad value stops startup like any other setting.
    /// </summary>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        var settings = new SettingsReader(builder.Configuration);
        if (settings.Optional("ASPNETCORE_URLS") is null && settings.Optional("URLS") is null)
        {
            builder.WebHost.UseUrls($"http://0.0.0.0:{settings.Int("PORT", 3000, 0, 65535)}");
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        if (settings.Optional("LOG_LEVEL") is { } logLevel)
        {
            var name = Enum.GetNames<LogLevel>().FirstOrDefault(n => n.Equals(logLevel, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidSettingException("LOG_LEVEL", $"must be one of {string.Join(", ", Enum.GetNames<LogLevel>())}, got '{logLevel}'");
            builder.Logging.SetMinimumLevel(Enum.Parse<LogLevel>(name));
        }

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);

        builder.WebHost.ConfigureKestrel(o => RequestLimits.Apply(o.Limits));
        builder.Services.AddRequestTimeouts(o => o.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = RequestLimits.RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
        });
        builder.Services.AddSingleton(sp => new SettingsReader(sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
            c.ProblemDetails.Extensions.TryAdd("traceId", Activity.Current?.Id ?? c.HttpContext.TraceIdentifier));
        builder.Services.AddExceptionHandler<EdgeExceptionHandler>();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            // Source-generated metadata only, as under Native AOT: the reflection resolver goes, the framework's own
            // contexts (problem details) stay, so a response type missing from CallsJson fails in tests, not only in the binary.
            var resolvers = o.SerializerOptions.TypeInfoResolverChain;
            foreach (var reflection in resolvers.Where(r => r is not JsonSerializerContext).ToList())
            {
                resolvers.Remove(reflection);
            }

            resolvers.Add(Calls.CallsJson.Default);
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
        });
        return builder;
    }

    /// <summary>
    /// Resolves every registered settings object, so a bad value stops startup (<see cref="InvalidSettingException"/>
    /// names the variable) before anything is served.
    /// </summary>
    public static void ValidateSettings(this WebApplication app)
    {
        foreach (var validate in app.Services.GetServices<SettingsCheck>())
        {
            validate.Check(app.Services);
        }
    }

    /// <summary>Registers a settings type read by <paramref name="read"/> and checked at startup.</summary>
    public static IServiceCollection AddSettings<T>(this IServiceCollection services, Func<SettingsReader, T> read)
        where T : class
    {
        services.AddSingleton(sp => read(sp.GetRequiredService<SettingsReader>()));
        services.AddSingleton(new SettingsCheck(sp => sp.GetRequiredService<T>()));
        return services;
    }
}

/// <summary>Resolves one settings object at startup.</summary>
public sealed class SettingsCheck(Action<IServiceProvider> check)
{
    public void Check(IServiceProvider services) => check(services);
}
