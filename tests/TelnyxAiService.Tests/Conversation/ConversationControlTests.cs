using TelnyxAiService.Conversation;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.MediaStreamCallTests;
using CallEndReason = TelnyxAiService.Emulators.Telnyx.Media.CallEndReason;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>The conversation steering the call: the end-call tool, the idle timeout, keypad digits.</summary>
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
    public async Task TransferTool_AgentHandsOver_TransfersAfterItsLinePlayed()
    {
        const string handover = "Let me put you through to a colleague.";
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(handover, "transfer_to_human") },
                Deepgram = Segments("I want to talk to a person"),
                Settings = { ["TRANSFER_NUMBER"] = "+15550100999" },
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .Say("I want to talk to a person")
                    .WaitForAgentToFinish(timeout: TimeSpan.FromSeconds(30)),
            },
            Ct);

        var recording = await CallAsync(harness);

        var transfer = Assert.Single(harness.Telnyx.Commands, c => c.Action == "transfer");
        Assert.Equal("+15550100999", transfer.Body.GetProperty("to").GetString());
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "hangup");
        var line = Assert.Single(recording.CallerLines);
        Assert.InRange(StreamCalls.HeardFramesAfter(recording, line.End), StreamCalls.FramesOf(handover) - 1, StreamCalls.FramesOf(handover));
        Assert.Single(recording.MarksEchoed, m => m.At > line.End);
    }

    [Fact]
    public async Task IdleTimeout_CallerSilent_AsksOnceThenSaysGoodbyeAndHangsUp()
    {
        var phrases = Phrases.For("en");
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Settings = { ["IDLE_TIMEOUT_SECONDS"] = "3" },
                Caller = _ => new CallerScript().WaitForAgentToFinish(),
            },
            Ct);

        var recording = await CallAsync(harness);

        Assert.True(recording.EndReason is CallEndReason.Cancelled or CallEndReason.ServerClosed, $"the call ended with {recording.EndReason}");
        Assert.Single(harness.Telnyx.Commands, c => c.Action == "hangup");
        Assert.Empty(harness.Anthropic.Requests);
        var spoken = StreamCalls.SynthesisedTexts(harness.ElevenLabs);
        Assert.Equal(Greeting, spoken[0]);
        Assert.Equal(phrases.AreYouStillThere, spoken[1]);
        Assert.Equal(phrases.IdleGoodbye, string.Join(' ', spoken.Skip(2)));

        // Greeting, question and goodbye are heard in full, with about three seconds of silence before the last two.
        var pauses = recording.Heard.Zip(recording.Heard.Skip(1), (a, b) => b.Start - a.End).Where(p => p > TimeSpan.FromSeconds(1)).ToList();
        Assert.Equal(2, pauses.Count);
        Assert.All(pauses, p => Assert.InRange(p, TimeSpan.FromSeconds(2.9), TimeSpan.FromSeconds(6)));
        var frames = StreamCalls.FramesOf([.. spoken]);
        Assert.InRange(recording.HeardDuration.TotalMilliseconds / 20, frames - 3, frames);
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
        var goodbye = recording.Heard[^1];
        Assert.InRange(goodbye.Start, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(14));
        var frames = StreamCalls.FramesOf([.. spoken.Skip(1)]);
        Assert.InRange(recording.Heard.Where(h => h.Start > TimeSpan.FromSeconds(5)).Sum(h => h.AudioDuration.TotalMilliseconds) / 20, frames - 2, frames);
    }

    [Fact]
    public async Task Dtmf_CallerPressesKey_AgentHearsPressedDigit()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply("You chose option five.") },
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .SendDtmf("5")
                    .WaitForAgentToFinish()
                    .HangUp(),
            },
            Ct);

        var recording = await CallAsync(harness);

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        var request = Assert.Single(harness.Anthropic.Requests);
        Assert.Equal(("user", "[pressed 5]"), request.Messages[^1]);
        var pressed = Assert.Single(recording.DtmfSent);
        Assert.InRange(StreamCalls.HeardFramesAfter(recording, pressed.At), StreamCalls.FramesOf("You chose option five.") - 1, StreamCalls.FramesOf("You chose option five."));
    }
}
