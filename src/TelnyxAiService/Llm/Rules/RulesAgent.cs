using System.Text.RegularExpressions;

namespace TelnyxAiService.Llm.Rules;

/// <summary>
/// A deterministic scripted agent (IVR-like flows, predictable test agents): greets when the caller has not spoken
/// yet, otherwise answers the caller's latest words with the first matching intent of its script, or the fallback.
/// The reply streams one sentence at a time, then <see cref="EndCallRequested"/> or <see cref="TransferRequested"/>
/// when the intent says so.
/// </summary>
internal sealed partial class RulesAgent(RulesAgentOptions options, ILogger<RulesAgent> logger) : IAgent
{
    private AgentScript Script => options.Script;

    public IAsyncEnumerable<AgentOutput> ReplyAsync(AgentRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var outputs = new List<AgentOutput>();
        var callerText = request.History.LastOrDefault(m => m.Speaker == Speaker.Caller)?.Text;
        string reply;
        if (callerText is null)
        {
            reply = Script.Greeting;
            LogReply(logger, "greeting");
        }
        else if (Script.Match(callerText) is { } intent)
        {
            reply = intent.Reply;
            LogReply(logger, intent.Name);
            if (intent.EndCall)
            {
                outputs.Add(new EndCallRequested());
            }
            else if (intent.Transfer)
            {
                outputs.Add(new TransferRequested());
            }
        }
        else
        {
            reply = Script.Fallback;
            LogReply(logger, "fallback");
        }

        var sentences = SentenceEnd().Split(Render(reply, request.Call));
        outputs.InsertRange(0, sentences.Select((s, i) => new TextDelta(i < sentences.Length - 1 ? s + " " : s)));
        return outputs.ToAsyncEnumerable();
    }

    /// <summary>Fills {name} and {context}; an empty value leaves no stray space before punctuation.</summary>
    internal static string Render(string template, CallBrief call)
    {
        var text = template.Replace("{name}", call.Name.Trim(), StringComparison.Ordinal).Replace("{context}", call.Context.Trim(), StringComparison.Ordinal);
        return SpaceBeforePunctuation().Replace(ExtraSpace().Replace(text, " "), "").Trim();
    }

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"\s{2,}")]
    private static partial Regex ExtraSpace();

    [GeneratedRegex(@"\s+(?=[,.!?;:])")]
    private static partial Regex SpaceBeforePunctuation();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rules agent replies with {Intent}")]
    private static partial void LogReply(ILogger logger, string intent);
}
