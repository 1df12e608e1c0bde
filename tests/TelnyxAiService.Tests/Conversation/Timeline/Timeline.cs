using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>The fakes a script acts through.</summary>
internal sealed record TimelineActors(StreamConversation Conversation, FakeCallAudio Audio, FakeRecogniser Recogniser);

/// <summary>How the conversation under test is set up; the defaults are the service's.</summary>
public sealed record TimelineSetup
{
    public static readonly ConversationOptions DefaultOptions = new(
        "en",
        "Be brief.",
        TransferNumber: null,
        IdleTimeout: TimeSpan.FromSeconds(15),
        MaxCallDuration: TimeSpan.FromSeconds(900),
        SpeculativeDelay: TimeSpan.FromMilliseconds(250),
        TurnHold: TimeSpan.FromMilliseconds(600),
        BargeInGrace: TimeSpan.FromMilliseconds(700));

    public ConversationOptions Options { get; init; } = DefaultOptions;

    /// <summary>Two words: the greeting plays from 0 to 400 ms.</summary>
    public string Greeting { get; init; } = "Hello Ana.";

    public Func<AgentRequest, AgentAnswer> Agent { get; init; } = _ => new AgentAnswer("Sure.");

    /// <summary>The texts text-to-speech fails on.</summary>
    public Func<string, bool> VoiceFails { get; init; } = _ => false;
}

/// <summary>
/// Runs a <see cref="StreamConversation"/> in-process against fakes on a <see cref="FakeTimeProvider"/>: every 20 ms
/// tick the caller's audio for the tick goes in, the script's events for the instant happen, the agent's next frame
/// plays, and the conversation settles before the clock moves on. Nothing waits in real time.
/// </summary>
public static class Timeline
{
    public const int TickMs = 20;

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(TickMs);

    /// <summary>
    /// Plays the script until <paramref name="untilMs"/> or the end of the call; then Telnyx stops the stream. The
    /// test's output shows the whole timeline.
    /// </summary>
    public static Task<TimelineResult> PlayAsync(TimelineScript script, int untilMs, TimelineSetup? setup = null) =>
        SettlingLoop.RunAsync(loop => PlayAsync(loop, script, untilMs, setup ?? new TimelineSetup()));

    private static async Task<TimelineResult> PlayAsync(SettlingLoop loop, TimelineScript script, int untilMs, TimelineSetup setup)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero));
        var log = new TimelineLog(time);
        var audio = new FakeCallAudio(log);
        var recogniser = new FakeRecogniser(log);
        var agent = new FakeAgent(log, setup.Agent);
        var services = new ConversationServices(
            recogniser, new FakeVoice(log, setup.VoiceFails), agent, new RecordingCallControl(log.Add), setup.Options, new CallStats(TestTelemetry.Instance), time, NullLogger<StreamConversation>.Instance);
        using var session = NewSession(time, setup.Greeting);
        var conversation = new StreamConversation(session, audio, services);
        var actors = new TimelineActors(conversation, audio, recogniser);

        var running = conversation.RunAsync(session.Ending);
        for (var ms = 0; ms <= untilMs && !running.IsCompleted; ms += TickMs)
        {
            if (ms > 0)
            {
                audio.HearCaller(script.VoiceAt(ms - TickMs));
            }

            foreach (var act in script.At(ms))
            {
                act(actors);
            }

            audio.Play(time.GetUtcNow());
            await loop.SettleAsync();
            time.Advance(Tick);
        }

        if (!running.IsCompleted)
        {
            audio.Signal(new StreamStopped());
        }

        await running.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        CallEndReason? ended = session.Ended.IsCompleted ? await session.Ended : null;
        var result = new TimelineResult(log, agent.Requests, session.History(), ended);
        TestContext.Current.TestOutputHelper?.WriteLine(result.ToString());
        return result;
    }

    /// <summary>
    /// The session of the call under test. The one place that sets anything on a <see cref="CallSession"/> beyond its
    /// constructor: its clock, and the Telnyx call id that hangup and transfer name.
    /// </summary>
    private static CallSession NewSession(FakeTimeProvider time, string greeting)
    {
        var session = new CallSession("call-timeline", "+34600111222", new CallBrief("Ana", "", "en", "Be brief."), greeting, useMediaStream: true, time.GetUtcNow())
        {
            Time = time,
        };
        session.SetCallControlId("v3:timeline");
        return session;
    }
}

/// <summary>What came out of a timeline: the log of events, what the caller heard, the agent's requests and the history.</summary>
public sealed class TimelineResult
{
    internal TimelineResult(TimelineLog log, IReadOnlyList<AgentRequest> requests, IReadOnlyList<ChatMessage> history, CallEndReason? endReason)
    {
        Events = log.Events;
        Heard = log.Heard();
        Requests = requests;
        History = history;
        EndReason = endReason;
    }

    /// <summary>Pauses, resumes, clears, marks echoed, Telnyx commands, synthesis and agent requests, in order.</summary>
    public IReadOnlyList<TimelineEvent> Events { get; }

    public IReadOnlyList<HeardSpeech> Heard { get; }

    public IReadOnlyList<AgentRequest> Requests { get; }

    /// <summary>The call's history as written: what the caller said and what the agent said that the caller heard.</summary>
    public IReadOnlyList<ChatMessage> History { get; }

    /// <summary>Why the session ended; null when it was still up as the stream stopped.</summary>
    public CallEndReason? EndReason { get; }

    /// <summary>The events named <paramref name="what"/> (exactly, or as a prefix followed by a space).</summary>
    public IReadOnlyList<TimelineEvent> All(string what) =>
        [.. Events.Where(e => e.What == what || e.What.StartsWith(what + " ", StringComparison.Ordinal))];

    /// <summary>The sentences heard in full from <paramref name="fromMs"/> on, in order.</summary>
    public IReadOnlyList<string> WholeSentencesFrom(int fromMs) => [.. Heard.Where(h => h.Whole && h.ToMs > fromMs).Select(h => h.Text)];

    public override string ToString() =>
        string.Join('\n', [.. Events.Select(e => e.ToString()), .. Heard.Select(h => $"heard {h.FromMs}-{h.ToMs} {(h.Whole ? "whole" : "part")}: {h.Text}")]);
}
