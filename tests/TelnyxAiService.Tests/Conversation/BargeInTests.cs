using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.MediaStreamCallTests;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>The caller speaking over the agent: real words cut the reply, a lone backchannel does not.</summary>
public sealed class BargeInTests
{
    private const string Question = "What are your opening hours";
    private const string FirstSentence = "We open at eight.";
    private const string SecondSentence = "We close at six in the evening on weekdays.";
    private const string ThirdSentence = "On Saturdays we open until two in the afternoon.";
    private const string Interruption = "Actually I need to cancel my appointment";
    private const string Cancelled = "Your appointment is cancelled.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BargeIn_CallerSpeaksOverReply_AgentStopsClearsAndAnswersWithHeardPrefixInHistory()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions
                {
                    Reply = r => new ScriptedReply(r.Messages[^1].Text.Contains("cancel", StringComparison.Ordinal)
                        ? Cancelled
                        : $"{FirstSentence} {SecondSentence} {ThirdSentence}"),
                },
                Deepgram = Segments(Question, Interruption),
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .Say(Question)
                    .WaitForAgentSpeech(after: TimeSpan.FromMilliseconds(1600))
                    .Say(Interruption)
                    .WaitForAgentToFinish()
                    .HangUp(),
            },
            Ct);

        var recording = await CallAsync(harness);

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        var interruption = recording.CallerLines.Single(l => l.Text == Interruption);

        // Our detector hears the caller within a few frames; the agent then stops at once (plus what was already sent ahead).
        var late = recording.Arrivals.Where(a => a.At > interruption.Start + TimeSpan.FromMilliseconds(250) && a.At <= interruption.End).ToList();
        Assert.True(late.Count == 0, $"{late.Count} agent frames arrived while the caller was speaking, the first {(late.FirstOrDefault()?.At - interruption.Start)?.TotalMilliseconds:0} ms after they began");
        var clear = Assert.Single(recording.Clears);
        Assert.InRange(clear, interruption.Start, interruption.End);

        // Claude hears what the caller heard of the cut reply (the first sentence), marked as interrupted, then the caller.
        var request = harness.Anthropic.Requests[^1];
        Assert.Equal(("user", Interruption), request.Messages[^1]);
        Assert.Equal(("assistant", $"{FirstSentence} [interrupted by the caller]"), request.Messages[^2]);
        Assert.Equal(("user", Question), request.Messages[^3]);

        // The caller's words are answered.
        var answer = Assert.Single(recording.Heard, h => h.Start > interruption.End);
        Assert.InRange(answer.AudioDuration.TotalMilliseconds / 20, StreamCalls.FramesOf(Cancelled) - 1, StreamCalls.FramesOf(Cancelled));
    }

    [Fact]
    public async Task BargeIn_LoneOkOverReply_ReplyResumesWithoutClearOrNewTurn()
    {
        const string reply = "We open at eight in the morning. We close at six in the evening.";
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(reply) },
                Deepgram = Segments(Question, "ok"),
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .Say(Question)
                    .WaitForAgentSpeech(after: TimeSpan.FromSeconds(1))
                    .Say("ok")
                    .WaitForAgentToFinish(quiet: TimeSpan.FromSeconds(1.5))
                    .HangUp(),
            },
            Ct);

        var recording = await CallAsync(harness);

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        Assert.Empty(recording.Clears);
        var question = recording.CallerLines.Single(l => l.Text == Question);
        var ok = recording.CallerLines.Single(l => l.Text == "ok");
        var resumed = recording.FirstArrivalAfter(ok.End);
        Assert.NotNull(resumed);
        Assert.True(resumed.At - ok.End < TimeSpan.FromSeconds(1.5), $"the reply resumed {(resumed.At - ok.End).TotalMilliseconds:0} ms after the ok");
        var expected = StreamCalls.FramesOf("We open at eight in the morning.", "We close at six in the evening.");
        Assert.InRange(StreamCalls.HeardFramesAfter(recording, question.End), expected - 2, expected);
        Assert.Equal(Question, harness.Anthropic.Requests[^1].Messages[^1].Text);
        Assert.DoesNotContain(harness.Anthropic.Requests, r => r.Messages.Any(m => m.Text.Contains("ok", StringComparison.OrdinalIgnoreCase)));
    }
}
