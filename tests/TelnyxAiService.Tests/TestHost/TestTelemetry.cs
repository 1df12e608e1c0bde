using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Conversation;
using TelnyxAiService.Telemetry;

namespace TelnyxAiService.Tests.TestHost;

/// <summary>Telemetry on a meter factory of its own, for parts built without the service's host.</summary>
internal static class TestTelemetry
{
    public static ServiceTelemetry Instance { get; } = new(
        new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>(),
        new SessionRegistry(),
        TimeProvider.System);
}
