using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Calls;

/// <summary>The original service's flow (USE_MEDIA_STREAMS=false): Telnyx listens and speaks, Claude answers.</summary>
public sealed class CallControlFlowTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Call_InitiateToHangup_DialsGreetsTranscribesAnswersAndEnds()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                MediaStreams = false,
                Telnyx = new TelnyxEmulatorOptions { Callee = new CalleeScript { Lines = ["I would like to book a cleaning for Monday"] } },
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply("Monday at ten works. Shall I book it?") },
            },
            Ct);

        var response = await harness.Client.PostAsJsonAsync(
            "/api/call/initiate",
            new { telefono = "+34600111222", nombre = "Ana", contexto = "dental clinic follow-up", saludo = "Hello Ana, this is the clinic." },
            Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var callId = created.GetProperty("call_id").GetString()!;
        var callControlId = created.GetProperty("call_control_id").GetString()!;

        var dial = await harness.Telnyx.WaitForCommandAsync(c => c.Action == "dial", TimeSpan.FromSeconds(10), Ct);
        Assert.Equal("1494404757140276705", dial.Body.GetProperty("connection_id").GetString());
        Assert.Equal("+34600111222", dial.Body.GetProperty("to").GetString());
        Assert.Equal("+15550100000", dial.Body.GetProperty("from").GetString());
        Assert.EndsWith("/webhook/telnyx", dial.Body.GetProperty("webhook_url").GetString());
        Assert.Equal(callId, Encoding.UTF8.GetString(Convert.FromBase64String(dial.Body.GetProperty("client_state").GetString()!)));
        Assert.Equal(callId, dial.CommandId);
        Assert.False(dial.Body.TryGetProperty("stream_url", out _));

        var greeting = await harness.Telnyx.WaitForCommandAsync(c => c.Action == "speak", TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(callControlId, greeting.CallControlId);
        Assert.Equal("Hello Ana, this is the clinic.", greeting.Body.GetProperty("payload").GetString());

        var transcription = await harness.Telnyx.WaitForCommandAsync(c => c.Action == "transcription_start", TimeSpan.FromSeconds(10), Ct);
        Assert.True(transcription.Timestamp > greeting.Timestamp);

        var answer = await harness.Telnyx.WaitForCommandAsync(
            c => c.Action == "speak" && c.Body.GetProperty("payload").GetString() == "Monday at ten works. Shall I book it?", TimeSpan.FromSeconds(10), Ct);
        var request = Assert.Single(harness.Anthropic.Requests);
        Assert.Contains("Ana", request.System);
        Assert.Contains("dental clinic follow-up", request.System);
        Assert.Equal("I would like to book a cleaning for Monday", request.Messages[^1].Text);
        Assert.Contains(request.Messages, m => m.Role == "assistant" && m.Text == "Hello Ana, this is the clinic.");

        await Wait.UntilAsync(
            async () =>
            {
                var stats = await harness.Client.GetFromJsonAsync<JsonElement>("/api/sessions/stats", Ct);
                return stats.GetProperty("active_sessions").GetInt32() == 0 && stats.GetProperty("calls_completed").GetInt64() == 1;
            },
            "the callee's hangup to end the session");
        var stats = await harness.Client.GetFromJsonAsync<JsonElement>("/api/sessions/stats", Ct);
        Assert.Equal(1, stats.GetProperty("calls_started").GetInt64());
        Assert.Equal(1, stats.GetProperty("calls_answered").GetInt64());
        Assert.Equal(1, stats.GetProperty("turns_measured").GetInt64());
        Assert.True(answer.Timestamp > transcription.Timestamp);
    }
}
