using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>The conversation steering the call, on the fake clock: the end-call and transfer tools, the idle prompt, the time limit.</summary>
[Collection(nameof(TimelineCollection))]
public sealed class CallControlTimelineTests
{
    private const string Question = "What are your opening hours";
    private const string LongAnswer = "We open at eight. We close at six in the evening on weekdays.";
    private static readonly Phrases English = Phrases.For("en");

    [Fact]
    public async Task EndCallTool_HangsUpOnlyOnceTheGoodbyeHasPlayed()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript().Says(1000, 2000, "That is all thank you"),
            untilMs: 10_000,
            new TimelineSetup { Agent = _ => new AgentAnswer("Thank you for calling. Goodbye!", new EndCallRequested()) });

        Assert.Equal(CallEndReason.AgentHangup, result.EndReason);
        Assert.Equal(["Thank you for calling.", "Goodbye!"], result.WholeSentencesFrom(2000));
        var hangup = Assert.Single(result.All("hangup"));
        Assert.Equal(result.All("mark")[^1].Ms, hangup.Ms);
        Assert.Equal(hangup, result.Events[^1]);
    }

    [Fact]
    public async Task TransferTool_TransfersOnceTheLineHasPlayed()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript().Says(1000, 2000, "I want to talk to a person"),
            untilMs: 10_000,
            new TimelineSetup
            {
                Options = TimelineSetup.DefaultOptions with { TransferNumber = "+15550100999" },
                Agent = _ => new AgentAnswer("Let me put you through.", new TransferRequested()),
            });

        Assert.Equal(CallEndReason.Transferred, result.EndReason);
        Assert.Equal(["Let me put you through."], result.WholeSentencesFrom(2000));
        var transfer = Assert.Single(result.All("transfer"));
        Assert.Equal(("transfer v3:timeline +15550100999", result.All("mark")[^1].Ms), (transfer.What, transfer.Ms));
        Assert.Empty(result.All("hangup"));
    }

    [Fact]
    public async Task CallerSilent_AsksOnceAfterTheIdleTimeoutThenSaysGoodbyeAndHangsUp()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript(),
            untilMs: 20_000,
            new TimelineSetup { Options = TimelineSetup.DefaultOptions with { IdleTimeout = TimeSpan.FromSeconds(3) } });

        Assert.Equal(CallEndReason.IdleTimeout, result.EndReason);
        Assert.Empty(result.Requests);
        Assert.Equal(["Hello Ana.", English.AreYouStillThere, English.IdleGoodbye], result.History.Select(m => m.Text));
        var marks = result.All("mark");
        var synthesised = result.All("synthesise");
        Assert.Equal(marks[0].Ms + 3000, synthesised.Single(s => s.What == $"synthesise {English.AreYouStillThere}").Ms);
        Assert.Equal(marks[1].Ms + 3000, synthesised[2].Ms);
        Assert.Equal(marks[^1].Ms, Assert.Single(result.All("hangup")).Ms);
    }

    [Fact]
    public async Task CallerAnswersTheIdlePrompt_NextSilenceAsksAgainInsteadOfHangingUp()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript().Says(5000, 6000, "Yes I am here"),
            untilMs: 12_000,
            new TimelineSetup { Options = TimelineSetup.DefaultOptions with { IdleTimeout = TimeSpan.FromSeconds(3) } });

        Assert.Null(result.EndReason);
        Assert.Empty(result.All("hangup"));
        Assert.Equal(
            ["Hello Ana.", English.AreYouStillThere, "Yes I am here", "Sure.", English.AreYouStillThere],
            result.History.Select(m => m.Text));
    }

    [Fact]
    public async Task TimeLimitDuringReply_ReplyCutThenTimeLimitGoodbyeAndHangup()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Says(1000, 2000, Question)
                .TimeLimit(4000),
            untilMs: 12_000,
            new TimelineSetup { Agent = _ => new AgentAnswer(LongAnswer) });

        Assert.Equal(CallEndReason.TimeLimit, result.EndReason);
        Assert.Equal(4000, Assert.Single(result.All("clear")).Ms);
        Assert.Equal(English.TimeLimitGoodbye, string.Join(' ', result.WholeSentencesFrom(4000)));
        Assert.Equal(
            [new(Speaker.Agent, "We open at eight.", Interrupted: true), new(Speaker.Agent, English.TimeLimitGoodbye)],
            result.History.TakeLast(2));
        Assert.Equal(result.All("mark")[^1].Ms, Assert.Single(result.All("hangup")).Ms);
    }
}
