using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.MediaStreamCallTests;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>The other codecs a Telnyx stream can carry, end to end through Deepgram and ElevenLabs without transcoding.</summary>
public sealed class StreamCodecTests
{
    private const string Line = "I would like to book a cleaning";
    private const string Answer = "Monday at ten works.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, int, string, string, int> Codecs => new()
    {
        { "L16", "L16", 16000, "linear16", "pcm_16000", 640 },
        { "PCMA", "PCMA", 8000, "alaw", "alaw_8000", 160 },
    };

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task Call_StreamCodec_TurnCompletesInThatCodec(string setting, string codec, int sampleRate, string deepgramEncoding, string elevenLabsFormat, int frameBytes)
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(Answer) },
                Deepgram = Segments(Line),
                Settings = { ["MEDIA_CODEC"] = setting },
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .Say(Line)
                    .WaitForAgentToFinish()
                    .HangUp(),
            },
            Ct);

        var recording = await CallAsync(harness);

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        Assert.Equal(new EmulatedAudioFormat(codec, sampleRate), recording.Format);
        var dial = Assert.Single(harness.Telnyx.Commands, c => c.Action == "dial");
        Assert.Equal(codec, dial.Body.GetProperty("stream_bidirectional_codec").GetString());
        Assert.Equal(sampleRate, dial.Body.GetProperty("stream_bidirectional_sampling_rate").GetInt32());
        Assert.All(harness.Deepgram.Connections, c => Assert.Equal((deepgramEncoding, sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture)), (c.Query["encoding"], c.Query["sample_rate"])));
        Assert.All(harness.ElevenLabs.Requests, r => Assert.Equal(elevenLabsFormat, r.Query["output_format"]));

        Assert.All(recording.Arrivals, a => Assert.Equal(frameBytes, a.Audio.Length));
        Assert.Equal(Line, harness.Anthropic.Requests[^1].Messages[^1].Text);
        var line = Assert.Single(recording.CallerLines);
        var answer = recording.Arrivals.Where(a => a.At > line.End).ToList();
        Assert.Equal(StreamCalls.FramesOf(Answer), answer.Count);
        Assert.InRange(StreamCalls.HeardFramesAfter(recording, line.End), StreamCalls.FramesOf(Answer) - 1, StreamCalls.FramesOf(Answer));
    }
}
