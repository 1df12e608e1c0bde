using System.Runtime.CompilerServices;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Conversation;

public static class AgentReplies
{
    /// <summary>
    /// The agent's reply, never silence: when the agent fails before saying anything, the fallback line is the reply;
    /// when it fails part-way, the reply ends where it got to. Anything the agent throws, other than our own
    /// cancellation, is a failure.
    /// </summary>
    public static async IAsyncEnumerable<AgentOutput> ReplyOrFallbackAsync(
        this IAgent agent, AgentRequest request, string fallback, Action<ProviderException> onFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var said = false;
        await using var replies = agent.ReplyAsync(request, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            AgentOutput? output = null;
            try
            {
                if (!await replies.MoveNextAsync())
                {
                    break;
                }

                output = replies.Current;
            }
            catch (Exception e) when (ProviderException.Of(agent.GetType().Name, e, cancellationToken) is { } failure)
            {
                onFailure(failure);
            }

            if (output is null)
            {
                if (!said)
                {
                    yield return new TextDelta(fallback);
                }

                yield break;
            }

            said |= output is TextDelta { Text.Length: > 0 };
            yield return output;
        }
    }
}
