using System.Text.Json.Serialization;
using TelnyxAiService.Calls;

namespace TelnyxAiService.LiveCalls;

/// <summary>What the console shows of a live call, as it happens (<c>GET /api/live</c>, one JSON object per event).</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(CallShown), "call")]
[JsonDerivedType(typeof(StateChanged), "state")]
[JsonDerivedType(typeof(CallerWords), "caller_words")]
[JsonDerivedType(typeof(AgentWords), "agent_words")]
[JsonDerivedType(typeof(LineAdded), "line")]
[JsonDerivedType(typeof(CallEnded), "ended")]
[JsonDerivedType(typeof(Heartbeat), "heartbeat")]
internal abstract record LiveEvent;

/// <summary>Where a live call is, as the console shows it.</summary>
internal static class LiveState
{
    public const string Ringing = "ringing";
    public const string Listening = "listening";
    public const string CallerSpeaking = "caller_speaking";
    public const string AgentSpeaking = "agent_speaking";
}

/// <summary>A call as it is now: sent for every live call when a watcher connects, and when a call starts.</summary>
/// <param name="Lines">The finished lines so far (the latest <see cref="LiveCallFeed.MaxLines"/>).</param>
/// <param name="CallerWords">The caller's words of the turn in progress.</param>
/// <param name="AgentWords">What the caller has heard so far of the agent's reply in progress.</param>
internal sealed record CallShown(
    string CallId,
    string Direction,
    string Phone,
    string? Name,
    string State,
    DateTimeOffset StartedAt,
    IReadOnlyList<TurnView> Lines,
    string? CallerWords,
    string? AgentWords) : LiveEvent;

internal sealed record StateChanged(string CallId, string State) : LiveEvent;

/// <summary>The caller's words of the turn in progress, as recognised so far.</summary>
internal sealed record CallerWords(string CallId, string Text) : LiveEvent;

/// <summary>What the caller has heard so far of the agent's reply in progress.</summary>
internal sealed record AgentWords(string CallId, string Text) : LiveEvent;

/// <summary>A finished line of the transcript, as stored: an interrupted agent line holds what was heard before the cut.</summary>
internal sealed record LineAdded(string CallId, TurnView Line) : LiveEvent;

/// <param name="Outcome">The stored status (<c>completed</c>, <c>no_answer</c>…), or <c>handed_over</c>.</param>
internal sealed record CallEnded(string CallId, string Outcome, string EndReason) : LiveEvent;

/// <summary>Sent when nothing else was for a while, so proxies keep the stream open and the console knows it is live.</summary>
internal sealed record Heartbeat(DateTimeOffset At) : LiveEvent;
