using TelnyxAiService.Llm;
using static TelnyxAiService.Tests.Conversation.BargeInScript;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>
/// The caller speaking over the agent, on the fake clock: real words cut the reply (clear, only what was heard kept),
/// a lone backchannel or a noise does not, and long speech without words does after 1.2 s.
/// </summary>
[Collection(nameof(TimelineCollection))]
public sealed class BargeInTimelineTests
{
    private static readonly ChatMessage Greeting = new(Speaker.Agent, "Hello Ana.");

    /// <summary>The question is answered from 2820 ms: the first sentence until 3620, the second until 5420, the third until 7220.</summary>
    private static TimelineSetup Setup => new()
    {
        Agent = r => new AgentAnswer(Answer(r.History[^1].Text)),
    };

    [Fact]
    public async Task WordsOverReply_PausedAtOnceThenCutClearedAndOnlyTheHeardSentenceKept()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Says(1000, 2000, Question)
                .Voice(4000, 5200)
                .Interim(4400, "Actually I need")
                .EndOfTurn(5400, Interruption),
            untilMs: 8000,
            Setup);

        // Our detector hears the caller after three frames and the agent stops at the next frame.
        Assert.Equal(4060, Assert.Single(result.All("pause")).Ms);
        Assert.DoesNotContain(result.Heard, h => h.ToMs > 4080 && h.FromMs < 6000);
        Assert.Equal(4400, Assert.Single(result.All("clear")).Ms);
        Assert.Contains(result.Heard, h => h.Text == SecondSentence && !h.Whole);
        Assert.DoesNotContain(result.Heard, h => h.Text == ThirdSentence);

        var history = new ChatMessage[]
        {
            Greeting,
            new(Speaker.Caller, Question),
            new(Speaker.Agent, FirstSentence, Interrupted: true),
            new(Speaker.Caller, Interruption),
            new(Speaker.Agent, Cancelled),
        };
        Assert.Equal(history, result.History);
        Assert.Equal(history[..^1], result.Requests[^1].History);
        Assert.Equal([Cancelled], result.WholeSentencesFrom(6000));
    }

    [Fact]
    public async Task LoneOkOverReply_ReplyResumesWhereItPausedWithoutClearOrNewTurn()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Says(1000, 2000, Question)
                .Voice(3200, 3540)
                .EndOfTurn(3700, "ok"),
            untilMs: 8000,
            Setup);

        Assert.Equal(3260, Assert.Single(result.All("pause")).Ms);
        Assert.Equal(3700, Assert.Single(result.All("resume")).Ms);
        Assert.Empty(result.All("clear"));
        Assert.Equal([FirstSentence, SecondSentence, ThirdSentence], result.WholeSentencesFrom(2000));
        Assert.Single(result.Requests);
        Assert.Equal([Greeting, new(Speaker.Caller, Question), new(Speaker.Agent, LongReply)], result.History);
    }

    [Fact]
    public async Task NoiseWithoutWords_ReplyResumesAfterTheGrace()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Says(1000, 2000, Question)
                .Voice(3200, 3400),
            untilMs: 8000,
            Setup);

        var pause = Assert.Single(result.All("pause"));
        Assert.Equal(pause.Ms + 700, Assert.Single(result.All("resume")).Ms);
        Assert.Empty(result.All("clear"));
        Assert.Equal([FirstSentence, SecondSentence, ThirdSentence], result.WholeSentencesFrom(2000));
    }

    [Fact]
    public async Task LongSpeechWithoutWords_ReplyCutAfterOnePointTwoSeconds()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Says(1000, 2000, Question)
                .Voice(3800, 6000),
            untilMs: 7000,
            Setup);

        var pause = Assert.Single(result.All("pause"));
        Assert.Equal(3860, pause.Ms);
        var clear = Assert.Single(result.All("clear"));
        Assert.InRange(clear.Ms, pause.Ms + 1200, pause.Ms + 1400);
        Assert.DoesNotContain(result.Heard, h => h.ToMs > pause.Ms + 20);
        Assert.Equal(new ChatMessage(Speaker.Agent, FirstSentence, Interrupted: true), result.History[^1]);
    }
}
