using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using TelnyxAiService.Tests.Conversation;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Telemetry;

/// <summary>With OTEL_EXPORTER_OTLP_ENDPOINT set, a call's trace reaches an OTLP/HTTP receiver.</summary>
public sealed class OtlpExportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Call_WithOtlpEndpoint_ExportsTheCallSpanAndItsTurnStages()
    {
        var traces = new ConcurrentQueue<(string? ContentType, byte[] Body)>();
        var port = ServiceProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var receiver = builder.Build();
        receiver.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body, Ct);
            if (signal == "traces")
            {
                traces.Enqueue((request.ContentType, body.ToArray()));
            }

            return Results.Ok();
        });
        await receiver.StartAsync(Ct);

        var options = MediaStreamCallTests.OneTurnCall("Monday at ten works.");
        options.Settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}";
        options.Settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        options.Settings["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        await using var harness = await ServiceHarness.StartAsync(options, Ct);
        await MediaStreamCallTests.CallAsync(harness);

        // The call span is the last to end, with its outcome: once it is exported, so are the turn's stages.
        string Exported() => string.Concat(traces.Select(t => Encoding.UTF8.GetString(t.Body)));
        await Wait.UntilAsync(() => Exported().Contains("call.outcome", StringComparison.Ordinal), "the call's span at the receiver");
        Assert.All(traces, t => Assert.Equal("application/x-protobuf", t.ContentType));
        Assert.Contains("voice_to_voice", Exported(), StringComparison.Ordinal);
        Assert.Contains("end_of_speech_to_decision", Exported(), StringComparison.Ordinal);
        Assert.Contains("completed", Exported(), StringComparison.Ordinal);
    }
}
