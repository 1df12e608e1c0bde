using System.Runtime.CompilerServices;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>What the agent answers to a request: its words (streamed a word at a time, at once) and a tool, or a failure.</summary>
public sealed record AgentAnswer(string Text, AgentOutput? Tool = null, bool Fails = false);

/// <summary>The agent: answers as the test's function says and records each request with the history it carried.</summary>
internal sealed class FakeAgent(TimelineLog log, Func<AgentRequest, AgentAnswer> answer) : IAgent
{
    public List<AgentRequest> Requests { get; } = [];

    public async IAsyncEnumerable<AgentOutput> ReplyAsync(AgentRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Requests.Add(request);
        log.Add($"asked {request.History[^1].Text}");
        var reply = answer(request);
        if (reply.Fails)
        {
            throw new ProviderException("anthropic", "overloaded", retryable: true);
        }

        foreach (var word in reply.Text.Split(' '))
        {
            await Task.Yield();
            yield return new TextDelta(word + " ");
        }

        if (reply.Tool is { } tool)
        {
            yield return tool;
        }
    }
}
