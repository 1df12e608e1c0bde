namespace TelnyxAiService.Llm;

/// <summary>The conversational brain: given the call and its history, stream the agent's next reply.</summary>
public interface IAgent
{
    IAsyncEnumerable<AgentOutput> ReplyAsync(AgentRequest request, CancellationToken cancellationToken);
}

/// <summary>What the agent knows about the call it is on.</summary>
/// <param name="Instructions">The operator's system prompt (AGENT_PROMPT) or the built-in one.</param>
public sealed record CallBrief(string Name, string Context, string Language, string Instructions);

/// <summary>Who said a turn: in the agent's history and in the stored transcript (<c>caller</c>, <c>agent</c>).</summary>
public enum Speaker
{
    Caller,
    Agent,
}

/// <param name="Interrupted">The caller cut this agent message off: <see cref="Text"/> is only the part they heard.</param>
public sealed record ChatMessage(Speaker Speaker, string Text, bool Interrupted = false);

/// <summary>The history ends with the caller's latest words.</summary>
public sealed record AgentRequest(CallBrief Call, IReadOnlyList<ChatMessage> History);

public abstract record AgentOutput;

/// <summary>A piece of the spoken reply, in order.</summary>
public sealed record TextDelta(string Text) : AgentOutput;

/// <summary>The agent decided to end the call once its goodbye has been heard.</summary>
public sealed record EndCallRequested : AgentOutput;

/// <summary>The agent decided to hand the caller to a human.</summary>
public sealed record TransferRequested : AgentOutput;
