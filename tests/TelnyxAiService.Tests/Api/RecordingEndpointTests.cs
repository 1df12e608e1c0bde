using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Recordings;
using TelnyxAiService.Tests.Recordings;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Api;

public sealed class RecordingEndpointTests
{
    private const string Bucket = "recordings";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Recording_AfterMediaCall_ServesStereoWavOfTheCall()
    {
        var directory = Directory.CreateTempSubdirectory("recordings-");
        await using var harness = await ServiceHarness.StartAsync(CallOptions(new Dictionary<string, string> { ["RECORDINGS_DIR"] = directory.FullName }), Ct);
        var callId = await CallAsync(harness);

        var wav = await WaitForRecordingAsync(harness, callId);
        Assert.Equal(2, BitConverter.ToInt16(wav, 22));
        Assert.Equal(8000, BitConverter.ToInt32(wav, 24));
        Assert.True(wav.Length > 44 + (8000 * 2 * 2 * 3), "at least three seconds of stereo audio");

        using var range = new HttpRequestMessage(HttpMethod.Get, $"/api/calls/{callId}/recording") { Headers = { Range = new RangeHeaderValue(4, 7) } };
        using var part = await harness.Client.SendAsync(range, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(wav[4..8], await part.Content.ReadAsByteArrayAsync(Ct));

        Assert.Equal(HttpStatusCode.NotFound, (await harness.Client.GetAsync("/api/calls/nope/recording", Ct)).StatusCode);
    }

    [Fact]
    public async Task Recording_KeptOnS3_ServedByTheServiceItself()
    {
        await using var s3 = await S3rverProcess.StartAsync(Bucket, Ct);
        await using var harness = await ServiceHarness.StartAsync(CallOptions(s3), Ct);
        var callId = await CallAsync(harness);

        var wav = await WaitForRecordingAsync(harness, callId);

        using var client = S3rverProcess.Client(harness.Services.GetRequiredService<RecordingOptions>());
        using var stored = await client.GetObjectAsync(Bucket, $"calls/{callId}.wav", Ct);
        using var uploaded = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(uploaded, Ct);
        Assert.Equal(uploaded.ToArray(), wav);
    }

    [Fact]
    public async Task Recording_S3Unreachable_Answers503()
    {
        using var closed = new ClosedPort();
        var settings = new Dictionary<string, string> { ["S3_BUCKET"] = Bucket, ["S3_ENDPOINT_URL"] = $"http://127.0.0.1:{closed.Port}" };
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions { Settings = settings, Services = S3rverProcess.UseS3rverKey }, Ct);
        var created = await (await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111222" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);

        using var recording = await harness.Client.GetAsync($"/api/calls/{created.GetProperty("call_id").GetString()}/recording", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, recording.StatusCode);
        Assert.Equal("The recording store is unreachable", (await recording.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("title").GetString());
    }

    /// <summary>A service with <paramref name="settings"/> whose call with Ana lasts a few seconds.</summary>
    internal static HarnessOptions CallOptions(Dictionary<string, string> settings, Action<IServiceCollection>? services = null) => new()
    {
        Settings = settings,
        Services = services,
        Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply("See you on Monday.") },
        Deepgram = new DeepgramEmulatorOptions { Segments = ["Monday works for me"] },
        Caller = _ => new CallerScript().WaitForAgentToFinish().Say("Monday works for me").WaitForAgentToFinish().HangUp(),
    };

    /// <summary>As above, the recordings kept in <paramref name="s3"/>'s bucket.</summary>
    internal static HarnessOptions CallOptions(S3rverProcess s3) => CallOptions(new Dictionary<string, string> { ["S3_BUCKET"] = Bucket, ["S3_ENDPOINT_URL"] = s3.Endpoint.ToString() }, S3rverProcess.UseS3rverKey);

    /// <summary>Places a media-stream call with Ana and waits until the callee has hung up; the call id.</summary>
    internal static async Task<string> CallAsync(ServiceHarness harness)
    {
        var response = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111222", nombre = "Ana" }, Ct);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        await harness.Callee!.WaitForRecordingAsync(created.GetProperty("call_control_id").GetString()!, TimeSpan.FromSeconds(60), Ct);
        return created.GetProperty("call_id").GetString()!;
    }

    /// <summary>The recording as the API serves it once saved: a WAV in the response itself, with its length.</summary>
    internal static async Task<byte[]> WaitForRecordingAsync(ServiceHarness harness, string callId)
    {
        byte[] wav = [];
        await Wait.UntilAsync(
            async () =>
            {
                using var recording = await harness.Client.GetAsync($"/api/calls/{callId}/recording", Ct);
                if (recording.StatusCode != HttpStatusCode.OK)
                {
                    return false;
                }

                Assert.Equal(harness.Client.BaseAddress!.Authority, recording.RequestMessage!.RequestUri!.Authority);
                Assert.Equal("audio/wav", recording.Content.Headers.ContentType?.MediaType);
                wav = await recording.Content.ReadAsByteArrayAsync(Ct);
                Assert.Equal(wav.Length, recording.Content.Headers.ContentLength);
                Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(wav, 0, 4));
                return S3rverProcess.IsWholeWav(wav);
            },
            "the recording to be saved");
        return wav;
    }
}
