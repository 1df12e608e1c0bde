namespace TelnyxAiService.Llm.Claude;

/// <summary>Turns a call brief and its history into the Messages API's system prompt, messages and tools.</summary>
internal static class ClaudePrompt
{
    public const int MaxHistory = 20;
    public const string EndCallTool = "end_call";
    public const string TransferTool = "transfer_to_human";
    public const string CallConnects = "(the call connects)";

    public static MessagesRequest Request(ClaudeOptions options, AgentRequest request) => new(
        options.Model,
        options.MaxTokens,
        System(request.Call),
        Messages(request.History),
        Tools(options.TransferNumber is not null));

    public static string System(CallBrief call)
    {
        var lines = new List<string>();
        if (!string.IsNullOrWhiteSpace(call.Instructions))
        {
            lines.Add(call.Instructions.Trim());
            lines.Add("");
        }

        if (!string.IsNullOrWhiteSpace(call.Name))
        {
            lines.Add($"You are on a phone call with {call.Name.Trim()}.");
        }

        if (!string.IsNullOrWhiteSpace(call.Context))
        {
            lines.Add($"Call context: {call.Context.Trim()}");
        }

        lines.Add($"Reply in {call.Language}, in short spoken sentences, with no lists or markdown: one or two sentences per reply.");
        return string.Join('\n', lines);
    }

    /// <summary>Ends an agent message the caller cut off: it holds only what they heard.</summary>
    public const string InterruptedMarker = "[interrupted by the caller]";

    /// <summary>
    /// The last <see cref="MaxHistory"/> messages as alternating user/assistant turns that start with the caller:
    /// consecutive messages from one speaker are merged, and a history that opens with the agent's greeting gets a
    /// short user turn in front.
    /// </summary>
    public static List<MessageParam> Messages(IReadOnlyList<ChatMessage> history)
    {
        var turns = new List<(Speaker Speaker, string Text)>();
        foreach (var message in history.Skip(Math.Max(0, history.Count - MaxHistory)))
        {
            if (string.IsNullOrWhiteSpace(message.Text))
            {
                continue;
            }

            var text = message.Interrupted ? $"{message.Text.Trim()} {InterruptedMarker}" : message.Text.Trim();
            if (turns.Count > 0 && turns[^1].Speaker == message.Speaker)
            {
                turns[^1] = (message.Speaker, $"{turns[^1].Text} {text}");
            }
            else
            {
                turns.Add((message.Speaker, text));
            }
        }

        if (turns.Count == 0 || turns[0].Speaker == Speaker.Agent)
        {
            turns.Insert(0, (Speaker.Caller, CallConnects));
        }

        return [.. turns.Select(t => new MessageParam(t.Speaker == Speaker.Caller ? "user" : "assistant", t.Text))];
    }

    public static List<ToolParam> Tools(bool canTransfer)
    {
        var tools = new List<ToolParam>
        {
            Tool(EndCallTool, "Hang up the call. Say goodbye first, in the same reply, then call this tool."),
        };
        if (canTransfer)
        {
            tools.Add(Tool(TransferTool, "Transfer the caller to a human colleague when they ask for a person or you cannot help. Tell them you are transferring them first, then call this tool."));
        }

        return tools;
    }

    private static ToolParam Tool(string name, string description) =>
        new(name, description, new ToolInputSchema("object", new Dictionary<string, System.Text.Json.JsonElement>()));
}
