using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TelnyxAiService.Configuration;
using TelnyxAiService.Security;

namespace TelnyxAiService.Telemetry;

public static class TelemetryRegistration
{
    /// <summary>
    /// The service's metrics for <c>/metrics</c> (Prometheus text), and with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set,
    /// its metrics and traces over OTLP too (the exporter reads the standard <c>OTEL_*</c> settings, such as
    /// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>). The endpoint is read here, before the host is built: a bad value stops startup.
    /// </summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = new SettingsReader(builder.Configuration).Url("OTEL_EXPORTER_OTLP_ENDPOINT", null, "http", "https") is not null;
        builder.Services.AddSingleton<ServiceTelemetry>();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("telnyx-ai-service"))
            .WithMetrics(m =>
            {
                m.AddMeter(ServiceTelemetry.Name).AddPrometheusExporter();
                if (otlp)
                {
                    m.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(t => t.AddSource(ServiceTelemetry.Name).AddOtlpExporter());
        }

        return builder;
    }

    /// <summary><c>/metrics</c> in Prometheus text format, open to whoever may use the API.</summary>
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(ApiKeyAuthentication.Policy);
        return app;
    }
}
