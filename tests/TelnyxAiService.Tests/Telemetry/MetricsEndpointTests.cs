using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using TelnyxAiService.Tests.Conversation;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Telemetry;

/// <summary>/metrics after a real call and a refused webhook, read by the Prometheus client's own text parser.</summary>
public sealed class MetricsEndpointTests
{
    /// <summary>Parses Prometheus text from stdin with prometheus_client and prints every sample as JSON.</summary>
    private const string Parser = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        print(json.dumps([[s.name, s.labels, s.value] for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]))
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Metrics_AfterACallAndARefusedWebhook_CountsThemInPrometheusText()
    {
        await using var harness = await ServiceHarness.StartAsync(MediaStreamCallTests.OneTurnCall("Monday at ten works."), Ct);
        await MediaStreamCallTests.CallAsync(harness);
        await Wait.UntilAsync(() => MediaStreamCallTests.Stat(harness, "active_sessions", 0), "the call to end");
        var refused = await harness.Client.PostAsync("/webhook/telnyx", new StringContent("{}", Encoding.UTF8, "application/json"), Ct);
        Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);

        var response = await harness.Client.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var samples = await ParseAsync(await response.Content.ReadAsStringAsync(Ct));

        Assert.Contains(samples, s => s.Name == "telnyx_ai_calls_ended_total" && s.Labels.GetValueOrDefault("outcome") == "completed" && s.Value >= 1);
        Assert.Contains(samples, s => s.Name == "telnyx_ai_calls_live" && s.Value >= 0);
        foreach (var stage in new[] { "end_of_speech_to_decision", "decision_to_first_token", "first_token_to_first_sentence", "sentence_to_tts_first_byte", "tts_first_byte_to_first_frame", "voice_to_voice" })
        {
            Assert.Contains(samples, s => s.Name == "telnyx_ai_turn_stage_duration_milliseconds_count" && s.Labels.GetValueOrDefault("stage") == stage && s.Value > 0);
        }

        Assert.Contains(samples, s => s.Name == "telnyx_ai_turn_stage_duration_milliseconds_bucket" && s.Labels.GetValueOrDefault("le") == "5000");
        Assert.Contains(samples, s => s.Name == "telnyx_ai_edge_refused_total" && s.Labels.GetValueOrDefault("surface") == "webhook" && s.Value >= 1);
    }

    private static async Task<List<Sample>> ParseAsync(string text)
    {
        using var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", Parser])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await python.StandardInput.WriteAsync(text);
        python.StandardInput.Close();
        var output = python.StandardOutput.ReadToEndAsync(Ct);
        var errors = python.StandardError.ReadToEndAsync(Ct);
        await python.WaitForExitAsync(Ct);
        Assert.True(python.ExitCode == 0, $"the Prometheus parser refused /metrics: {await errors}\n{text}");
        using var parsed = JsonDocument.Parse(await output);
        return [.. parsed.RootElement.EnumerateArray().Select(s => new Sample(
            s[0].GetString()!,
            s[1].EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
            s[2].GetDouble()))];
    }

    private sealed record Sample(string Name, Dictionary<string, string> Labels, double Value);
}
