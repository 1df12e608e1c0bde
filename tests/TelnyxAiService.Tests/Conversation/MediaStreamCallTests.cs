using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>Whole calls over the Telnyx media stream: the caller's audio in, the agent's paced audio out.</summary>
public sealed class MediaStreamCallTests
{
    internal const string Greeting = "Hello Ana, this is the clinic.";
    internal const string BookingRequest = "I would like to book a cleaning for Monday";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Call_CallerSpeaks_GreetingAndReplyHeardAsPacedPcmuFrames()
    {
        const string reply = "Monday at ten works. Shall I book it?";
        await using var harness = await ServiceHarness.StartAsync(OneTurnCall(reply), Ct);

        var recording = await CallAsync(harness);

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        Assert.All(recording.Arrivals, a => Assert.Equal(160, a.Audio.Length));
        var line = Assert.Single(recording.CallerLines);
        var greeting = recording.Arrivals.Where(a => a.At < line.Start).ToList();
        var answer = recording.Arrivals.Where(a => a.At > line.End).ToList();
        AssertDuration(SyntheticSpeech.DurationOf(Greeting), greeting.Count);
        AssertDuration(SyntheticSpeech.DurationOf("Monday at ten works.") + SyntheticSpeech.DurationOf("Shall I book it?"), answer.Count, slack: 2);
        Assert.Empty(recording.Clears);

        Assert.InRange(harness.Anthropic.Requests.Count, 1, 2);
        Assert.Equal(BookingRequest, harness.Anthropic.Requests[^1].Messages[^1].Text);
        await Wait.UntilAsync(() => Stat(harness, "active_sessions", 0), "the session to end");
        Assert.True(await Stat(harness, "turns_measured", 1));
    }

    internal static DeepgramEmulatorOptions Segments(params string[] lines) => new() { Segments = lines };

    /// <summary>A call of one turn: after the greeting the caller asks for a booking, hears <paramref name="reply"/> and hangs up.</summary>
    internal static HarnessOptions OneTurnCall(string reply) => new()
    {
        Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(reply) },
        Deepgram = Segments(BookingRequest),
        Caller = _ => new CallerScript().WaitForAgentToFinish().Say(BookingRequest).WaitForAgentToFinish().HangUp(),
    };

    internal static async Task<MediaCallRecording> CallAsync(ServiceHarness harness)
    {
        var response = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111222", nombre = "Ana", saludo = Greeting }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return await harness.Callee!.WaitForRecordingAsync(created.GetProperty("call_control_id").GetString()!, TimeSpan.FromSeconds(60), Ct);
    }

    internal static async Task<bool> Stat(ServiceHarness harness, string name, long value)
    {
        var stats = await harness.Client.GetFromJsonAsync<JsonElement>("/api/sessions/stats", Ct);
        return stats.GetProperty(name).GetInt64() == value;
    }

    /// <summary>Frames for the text's synthetic speech, give or take the last partial frame of each sentence.</summary>
    private static void AssertDuration(TimeSpan expected, int frames, int slack = 1)
    {
        var expectedFrames = (int)Math.Ceiling(expected.TotalMilliseconds / 20);
        Assert.InRange(frames, expectedFrames - slack, expectedFrames + slack);
    }
}
