using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.BargeInScript;
using static TelnyxAiService.Tests.Conversation.MediaStreamCallTests;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>
/// The caller speaking over the agent, end to end against the emulators (a smoke test: the barge-in rules are tested on
/// the fake clock in <see cref="Timeline.BargeInTimelineTests"/>).
/// </summary>
public sealed class BargeInTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BargeIn_CallerSpeaksOverReply_AgentStopsClearsAndAnswersWithHeardPrefixInHistory()
    {
        await using var harness = await ServiceHarness.StartAsync(Harness(), Ct);

        var recording = await CallAsync(harness);

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        var interruption = recording.CallerLines.Single(l => l.Text == Interruption);

        // The reply was cut while the caller spoke: Telnyx was told to drop what it had buffered.
        var clear = Assert.Single(recording.Clears);
        Assert.True(clear > interruption.Start, "the clear came before the caller spoke");

        // Claude hears what the caller heard of the cut reply (the first sentence), marked as interrupted, then the caller.
        var request = harness.Anthropic.Requests[^1];
        Assert.Equal(("user", Interruption), request.Messages[^1]);
        Assert.Equal(("assistant", $"{FirstSentence} [interrupted by the caller]"), request.Messages[^2]);
        Assert.Equal(("user", Question), request.Messages[^3]);

        // The caller's words are answered.
        var answer = Assert.Single(recording.Heard, h => h.Start > interruption.End);
        Assert.InRange(answer.AudioDuration.TotalMilliseconds / 20, StreamCalls.FramesOf(Cancelled) - 1, StreamCalls.FramesOf(Cancelled));
    }
}
