using System.Diagnostics;
using System.Net;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Recordings;
using TelnyxAiService.Tests.Conversation;
using TelnyxAiService.Tests.Failover;
using TelnyxAiService.Tests.Recordings;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.BargeInScript;

namespace TelnyxAiService.Tests.Binary;

/// <summary>
/// What the service as its own process must do that the other process tests (batches on the Call Control flow,
/// restarts, takeover on PostgreSQL, hostile input, <c>emulate</c>) do not already cover: a media-stream call through
/// the four vendor emulators with a barge-in and the recording uploaded to S3, and the demo on the offline engines.
/// <c>scripts/test</c> runs them against the published native executable (<see cref="ServiceProcess"/>).
/// </summary>
public sealed class BinarySmokeTests : IDisposable
{
    private const string Bucket = "calls";

    private readonly string directory = Directory.CreateTempSubdirectory("telnyx-ai-binary-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task MediaCall_CallerBargesIn_AgentCutAndAnswered_RecordingOnS3()
    {
        await using var s3 = await S3rverProcess.StartAsync(Bucket, Ct);
        await using var vendors = await MediaVendors.StartAsync(
            (_, _) => BargeInScript.Caller(),
            _ => [Question, Interruption],
            BargeInScript.Answer);
        var port = ServiceProcess.FreePort();
        var settings = vendors.SettingsFor(port, $"sqlite:{Path.Combine(directory, "calls.db")}", "solo");
        settings["S3_BUCKET"] = Bucket;
        settings["S3_ENDPOINT_URL"] = s3.Endpoint.ToString();
        settings["AWS_ACCESS_KEY_ID"] = "S3RVER";
        settings["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
        await using var service = await ServiceProcess.StartAsync(port, settings, directory, Ct);

        var (callId, callControlId) = await MediaVendors.InitiateAsync(service.Client, "+34600111222", "Hello Ana, this is the clinic.");
        var recording = await vendors.Callee.WaitForRecordingAsync(callControlId, 1, TimeSpan.FromSeconds(60), Ct);
        var stored = await MediaVendors.WaitForStoredAsync(service.Client, callId, 5, ended: true, "the call to end and be stored");

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        var interruption = recording.CallerLines.Single(l => l.Text == Interruption);
        Assert.True(Assert.Single(recording.Clears) > interruption.Start, "the agent was cut after the caller spoke");
        Assert.Contains(recording.Heard, h => h.Start > interruption.End);
        Assert.Equal(("assistant", "We open at eight. [interrupted by the caller]"), vendors.Anthropic.Requests[^1].Messages[^2]);
        Assert.Equal("completed", stored.GetProperty("call").GetProperty("status").GetString());
        Assert.Equal(("agent", Cancelled), MediaVendors.Turns(stored)[^1]);

        // The recording is uploaded after the call; the service serves it from the S3 store itself, no redirect.
        byte[] wav = [];
        await Wait.UntilAsync(
            async () =>
            {
                using var response = await service.Client.GetAsync($"/api/calls/{callId}/recording", Ct);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return false;
                }

                Assert.Equal(service.Client.BaseAddress!.Authority, response.RequestMessage!.RequestUri!.Authority);
                wav = await response.Content.ReadAsByteArrayAsync(Ct);
                Assert.Equal(wav.Length, response.Content.Headers.ContentLength);
                return S3rverProcess.IsWholeWav(wav);
            },
            "the recording to be on S3",
            TimeSpan.FromSeconds(30));
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(wav, 0, 4));
        using var client = S3rverProcess.Client(new RecordingOptions(Bucket, "us-east-1", s3.Endpoint, "calls/", null, TimeSpan.FromMinutes(16)));
        using var kept = await client.GetObjectAsync(Bucket, $"calls/{callId}.wav", Ct);
        using var uploaded = new MemoryStream();
        await kept.ResponseStream.CopyToAsync(uploaded, Ct);
        Assert.Equal(uploaded.ToArray(), wav);
    }

    [Fact]
    public async Task Demo_OfflineEnginesAndBargeInPersona_CompletesTheCall()
    {
        var wav = Path.Combine(directory, "demo.wav");
        var start = ServiceProcess.Command("demo", "--persona", Path.Combine(AppContext.BaseDirectory, "personas", "clinic-barge-in.json"), "--wav", wav);
        start.WorkingDirectory = directory;
        using var demo = Process.Start(start)!;
        var output = demo.StandardOutput.ReadToEndAsync(Ct);
        var error = demo.StandardError.ReadToEndAsync(Ct);
        await demo.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(3), Ct);

        Assert.True(demo.ExitCode == 0, $"{await output}\n{await error}");
        Assert.Contains("✂ the callee barged in", await output);
        Assert.Contains("Word accuracy:", await output);
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(wav), 0, 4));
    }
}
