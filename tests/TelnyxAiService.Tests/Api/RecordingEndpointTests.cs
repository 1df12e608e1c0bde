using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Api;

public sealed class RecordingEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Recording_AfterMediaCall_ServesStereoWavOfTheCall()
    {
        var directory = Directory.CreateTempSubdirectory("recordings-");
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Settings = new() { ["RECORDINGS_DIR"] = directory.FullName },
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply("See you on Monday.") },
                Deepgram = new DeepgramEmulatorOptions { Segments = ["Monday works for me"] },
                Caller = _ => new CallerScript().WaitForAgentToFinish().Say("Monday works for me").WaitForAgentToFinish().HangUp(),
            },
            Ct);
        var response = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111222", nombre = "Ana" }, Ct);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var callId = created.GetProperty("call_id").GetString()!;
        await harness.Callee!.WaitForRecordingAsync(created.GetProperty("call_control_id").GetString()!, TimeSpan.FromSeconds(60), Ct);

        HttpResponseMessage recording = null!;
        await Wait.UntilAsync(
            async () => (recording = await harness.Client.GetAsync($"/api/calls/{callId}/recording", Ct)).StatusCode == HttpStatusCode.OK,
            "the recording to be saved");
        Assert.Equal("audio/wav", recording.Content.Headers.ContentType?.MediaType);
        var wav = await recording.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(wav, 0, 4));
        Assert.Equal(2, BitConverter.ToInt16(wav, 22));
        Assert.Equal(8000, BitConverter.ToInt32(wav, 24));
        Assert.True(wav.Length > 44 + (8000 * 2 * 2 * 3), "at least three seconds of stereo audio");

        Assert.Equal(HttpStatusCode.NotFound, (await harness.Client.GetAsync("/api/calls/nope/recording", Ct)).StatusCode);
    }
}
