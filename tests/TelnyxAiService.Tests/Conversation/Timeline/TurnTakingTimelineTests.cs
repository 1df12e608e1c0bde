using TelnyxAiService.Llm;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>When the caller's turn ends, on the fake clock: never on half a sentence the caller then continues.</summary>
public sealed class TurnTakingTimelineTests
{
    private const string FirstHalf = "I would like to book";
    private const string SecondHalf = "a cleaning for Monday";
    private const string Whole = FirstHalf + " " + SecondHalf;
    private const string Answer = "Monday at ten works.";

    [Fact]
    public async Task CallerPausesMidSentence_AnsweredOnceAfterFinishing()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Says(1000, 2000, FirstHalf)
                .Says(2460, 3500, SecondHalf),
            untilMs: 6000,
            new TimelineSetup { Agent = r => new AgentAnswer(r.History[^1].Text == Whole ? Answer : "Sure.") });

        TestContext.Current.TestOutputHelper!.WriteLine(result.ToString());
        Assert.DoesNotContain(result.Heard, h => h.ToMs > 2000 && h.FromMs < 3500);
        Assert.Empty(result.All("clear"));
        Assert.Equal([Answer], result.WholeSentencesFrom(3500));
        Assert.Equal(Whole, result.Requests[^1].History[^1].Text);
        Assert.Equal(
            [new ChatMessage(Speaker.Agent, "Hello Ana."), new ChatMessage(Speaker.Caller, Whole), new ChatMessage(Speaker.Agent, Answer)],
            result.History);
    }
}
