using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>A vendor failing mid-call, on the fake clock: the caller still hears something, and a lost recogniser ends the call.</summary>
[Collection(nameof(TimelineCollection))]
public sealed class ProviderFailureTimelineTests
{
    private const string Question = "What are your opening hours";
    private const string Answer = "We open at eight. We close at six in the evening on weekdays.";
    private static readonly Phrases English = Phrases.For("en");

    [Fact]
    public async Task RecogniserLostDuringReply_ReplyCutLineFailedGoodbyeAndHangup()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript()
                .Says(1000, 2000, Question)
                .RecogniserLost(3200),
            untilMs: 12_000,
            new TimelineSetup { Agent = _ => new AgentAnswer(Answer) });

        Assert.Equal(CallEndReason.StreamFailed, result.EndReason);
        Assert.Equal(3200, Assert.Single(result.All("clear")).Ms);
        Assert.Equal(English.StreamFailed, string.Join(' ', result.WholeSentencesFrom(3200)));
        Assert.Equal(result.All("mark")[^1].Ms, Assert.Single(result.All("hangup")).Ms);
    }

    [Fact]
    public async Task VoiceFailsForAReply_TelnyxSpeakSaysItOnceTheTurnHoldHasPassed()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript().Says(1000, 2000, Question),
            untilMs: 5000,
            new TimelineSetup { Agent = _ => new AgentAnswer(Answer), VoiceFails = text => Answer.Contains(text, StringComparison.Ordinal) });

        var speak = Assert.Single(result.All("speak"));
        Assert.Equal((2800, $"speak {Answer}"), (speak.Ms, speak.What));
        Assert.DoesNotContain(result.Heard, h => h.FromMs > 2000);
        Assert.Equal(new ChatMessage(Speaker.Agent, Answer), result.History[^1]);
    }

    [Fact]
    public async Task VoiceFailsOnTheSecondSentence_TelnyxSpeakSaysTheRestAndTheHistoryHoldsTheWholeReply()
    {
        const string first = "We open at eight.";
        const string rest = "We close at six. We are closed on Sundays.";
        var result = await Timeline.PlayAsync(
            new TimelineScript().Says(1000, 2000, Question),
            untilMs: 5000,
            new TimelineSetup { Agent = _ => new AgentAnswer($"{first} {rest}"), VoiceFails = text => rest.Contains(text, StringComparison.Ordinal) });

        Assert.Equal([first], result.WholeSentencesFrom(2000));
        Assert.Equal($"speak {rest}", Assert.Single(result.All("speak")).What);
        Assert.Equal(new ChatMessage(Speaker.Agent, $"{first} {rest}"), result.History[^1]);
    }

    /// <summary>
    /// Telnyx speak cannot be cleared like streamed audio, so a reply handed to it counts as heard in full the moment it
    /// is: the caller talking over it starts a new turn, and the next request carries the whole reply, not interrupted.
    /// </summary>
    [Fact]
    public async Task CallerTalksOverTheTelnyxSpeakFallback_NothingIsCutAndTheNextRequestCarriesTheWholeReply()
    {
        const string followUp = "And on Sundays";
        var result = await Timeline.PlayAsync(
            new TimelineScript().Says(1000, 2000, Question).Says(3000, 3600, followUp),
            untilMs: 6000,
            new TimelineSetup { Agent = _ => new AgentAnswer(Answer), VoiceFails = text => text.StartsWith("We close", StringComparison.Ordinal) });

        Assert.Empty(result.All("clear"));
        Assert.Equal(2, result.Requests.Count);
        Assert.Equal([new(Speaker.Agent, Answer), new(Speaker.Caller, followUp)], result.Requests[1].History.TakeLast(2));
    }

    [Fact]
    public async Task AgentFails_FallbackLineHeard()
    {
        var result = await Timeline.PlayAsync(
            new TimelineScript().Says(1000, 2000, Question),
            untilMs: 8000,
            new TimelineSetup { Agent = _ => new AgentAnswer("", Fails: true) });

        Assert.Equal(English.Fallback, string.Join(' ', result.WholeSentencesFrom(2000)));
        Assert.Equal([new(Speaker.Caller, Question), new(Speaker.Agent, English.Fallback)], result.History.TakeLast(2));
    }
}
