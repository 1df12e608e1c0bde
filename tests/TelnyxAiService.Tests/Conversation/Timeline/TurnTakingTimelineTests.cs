using TelnyxAiService.Llm;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>When the caller's turn ends, on the fake clock: once, on the whole of what they said.</summary>
[Collection(nameof(TimelineCollection))]
public sealed class TurnTakingTimelineTests
{
    private const string FirstHalf = "I would like to book";
    private const string SecondHalf = "a cleaning for Monday";
    private const string Whole = FirstHalf + " " + SecondHalf;
    private const string Answer = "Monday at ten works.";

    private static readonly ChatMessage Greeting = new(Speaker.Agent, "Hello Ana.");

    [Fact]
    public async Task CallerPausesMidSentence_AnsweredOnceAfterFinishing()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Says(1000, 2000, FirstHalf)
                .Says(2460, 3500, SecondHalf),
            untilMs: 6000,
            new TimelineSetup { Agent = r => new AgentAnswer(r.History[^1].Text == Whole ? Answer : "Sure.") });

        Assert.DoesNotContain(result.Heard, h => h.ToMs > 2000 && h.FromMs < 3500);
        Assert.Empty(result.All("clear"));
        Assert.Equal([Answer], result.WholeSentencesFrom(3500));
        Assert.Equal(Whole, result.Requests[^1].History[^1].Text);
        Assert.Equal([Greeting, new(Speaker.Caller, Whole), new(Speaker.Agent, Answer)], result.History);
    }

    [Fact]
    public async Task InterimStableAfterVoiceEnds_SpeculativeReplyStartsEarlyAndIsHeardWhenTheWordsMatch()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Voice(1000, 2000)
                .Interim(1600, Whole)
                .EndOfTurn(2600, Whole),
            untilMs: 5000,
            new TimelineSetup { Agent = _ => new AgentAnswer(Answer) });

        // Our detector hears the silence at 2300; the words have been stable for over 250 ms: the agent is asked then.
        var asked = Assert.Single(result.All("asked"));
        Assert.Equal(2300, asked.Ms);
        var answer = Assert.Single(result.Heard, h => h.Text == Answer);
        Assert.True(answer.Whole);
        Assert.Equal(2620, answer.FromMs);
        Assert.Equal([Greeting, new(Speaker.Caller, Whole), new(Speaker.Agent, Answer)], result.History);
    }

    [Fact]
    public async Task FinalWordsDifferFromSpeculation_SpeculativeReplyDiscardedUnheard()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Voice(1000, 2000)
                .Interim(1600, FirstHalf)
                .EndOfTurn(2600, Whole),
            untilMs: 5000,
            new TimelineSetup { Agent = r => new AgentAnswer(r.History[^1].Text == Whole ? Answer : "Sure.") });

        Assert.Equal([FirstHalf, Whole], result.Requests.Select(r => r.History[^1].Text));
        Assert.DoesNotContain(result.Heard, h => h.Text == "Sure.");
        Assert.Equal([Answer], result.WholeSentencesFrom(2000));
        Assert.Equal([Greeting, new(Speaker.Caller, Whole), new(Speaker.Agent, Answer)], result.History);
    }

    [Fact]
    public async Task FinalWithoutEndOfTurn_UtteranceEndEndsTheTurn()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Voice(1000, 2000)
                .Final(2100, Whole)
                .UtteranceEnd(2800),
            untilMs: 5000,
            new TimelineSetup { Options = TimelineSetup.DefaultOptions with { SpeculativeDelay = TimeSpan.Zero }, Agent = _ => new AgentAnswer(Answer) });

        Assert.Equal(2800, Assert.Single(result.All("asked")).Ms);
        Assert.Equal([Answer], result.WholeSentencesFrom(2000));
        Assert.Equal([Greeting, new(Speaker.Caller, Whole), new(Speaker.Agent, Answer)], result.History);
    }

    [Fact]
    public async Task CallerPressesKey_AgentHearsTheDigitAndAnswersAfterTheTurnHold()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript().Digit(1000, "5"),
            untilMs: 3000,
            new TimelineSetup { Agent = _ => new AgentAnswer("You chose option five.") });

        Assert.Equal("[pressed 5]", Assert.Single(result.Requests).History[^1].Text);
        var answer = Assert.Single(result.Heard, h => h.FromMs > 1000);
        Assert.Equal(("You chose option five.", 1620, true), (answer.Text, answer.FromMs, answer.Whole));
    }
}
