using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.MediaStreamCallTests;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>When the caller's turn ends: never on half a sentence the caller then continues.</summary>
public sealed class TurnTakingTests
{
    private const string FirstHalf = "I would like to book";
    private const string SecondHalf = "a cleaning for Monday";
    private const string Whole = FirstHalf + " " + SecondHalf;
    private const string Answer = "Monday at ten works for the cleaning.";
    private const string HalfAnswer = "Sure.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Turn_CallerPausesMidSentence_AnsweredOnceAfterFinishing()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions { Reply = r => new ScriptedReply(r.Messages[^1].Text == Whole ? Answer : HalfAnswer) },
                Deepgram = Segments(FirstHalf, SecondHalf),
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .Say(FirstHalf)
                    .Silence(TimeSpan.FromMilliseconds(450))
                    .Say(SecondHalf)
                    .WaitForAgentToFinish()
                    .HangUp(),
            },
            Ct);

        var recording = await CallAsync(harness);

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        Assert.Equal([FirstHalf, SecondHalf], recording.CallerLines.Select(l => l.Text));
        var (first, second) = (recording.CallerLines[0], recording.CallerLines[1]);
        Assert.DoesNotContain(recording.Arrivals, a => a.At > first.End && a.At <= second.End);
        Assert.Empty(recording.Clears);
        var answer = Assert.Single(recording.Heard, h => h.Start > second.End);
        Assert.InRange(answer.AudioDuration.TotalMilliseconds / 20, StreamCalls.FramesOf(Answer) - 1, StreamCalls.FramesOf(Answer));
        Assert.Equal(StreamCalls.FramesOf(Answer), recording.Arrivals.Count(a => a.At > second.End));

        Assert.Equal(Whole, harness.Anthropic.Requests[^1].Messages[^1].Text);
        Assert.DoesNotContain(harness.Anthropic.Requests[^1].Messages, m => m.Text.Contains(HalfAnswer, StringComparison.Ordinal));
        Assert.Equal(Answer, Assert.Single(StreamCalls.SynthesisedTexts(harness.ElevenLabs), t => t == Answer));
    }
}
