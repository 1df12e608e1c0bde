using TelnyxAiService.Conversation;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.MediaStreamCallTests;
using CallEndReason = TelnyxAiService.Emulators.Telnyx.Media.CallEndReason;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>
/// The conversation steering the call, end to end against the emulators (smoke tests: the rules are tested on the fake
/// clock in <see cref="Timeline.CallControlTimelineTests"/>): the end-call tool's hangup, and the call supervisor's time limit.
/// </summary>
public sealed class ConversationControlTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EndCallTool_AgentSaysGoodbye_HangsUpOnlyAfterTheGoodbyePlayed()
    {
        const string goodbye = "Thank you for calling the clinic. Goodbye!";
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(goodbye, "end_call") },
                Deepgram = Segments("That is all thank you"),
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .Say("That is all thank you")
                    .WaitForAgentToFinish(timeout: TimeSpan.FromSeconds(30)),
            },
            Ct);

        var recording = await CallAsync(harness);

        Assert.True(recording.EndReason is CallEndReason.Cancelled or CallEndReason.ServerClosed, $"the call ended with {recording.EndReason}");
        var hangup = Assert.Single(harness.Telnyx.Commands, c => c.Action == "hangup");
        var line = Assert.Single(recording.CallerLines);
        var expected = StreamCalls.FramesOf("Thank you for calling the clinic.", "Goodbye!");
        Assert.InRange(StreamCalls.HeardFramesAfter(recording, line.End), expected - 2, expected);

        // Both sentences' marks came back (the caller echoes one only once the audio before it has played) before the call ended.
        Assert.Equal(2, recording.MarksEchoed.Count(m => m.At > line.End));
        Assert.Equal(hangup, harness.Telnyx.Commands[^1]);
    }

    [Fact]
    public async Task MaxCallDuration_Reached_SaysTimeLimitGoodbyeAndHangsUp()
    {
        var phrases = Phrases.For("en");
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Settings = { ["MAX_CALL_SECONDS"] = "10", ["IDLE_TIMEOUT_SECONDS"] = "600" },
                Caller = _ => new CallerScript().WaitForAgentToFinish(),
            },
            Ct);

        var recording = await CallAsync(harness);

        Assert.True(recording.EndReason is CallEndReason.Cancelled or CallEndReason.ServerClosed, $"the call ended with {recording.EndReason}");
        Assert.Single(harness.Telnyx.Commands, c => c.Action == "hangup");
        var spoken = StreamCalls.SynthesisedTexts(harness.ElevenLabs);
        Assert.Equal(Greeting, spoken[0]);
        Assert.Equal(phrases.TimeLimitGoodbye, string.Join(' ', spoken.Skip(1)));
        var frames = StreamCalls.FramesOf([.. spoken]);
        Assert.InRange(recording.HeardDuration.TotalMilliseconds / 20, frames - 3, frames);
    }
}
