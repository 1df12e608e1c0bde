using TelnyxAiService.Configuration;

namespace TelnyxAiService.Conversation;

/// <summary>How the agent converses: language, instructions, turn-taking and call limits.</summary>
public sealed record ConversationOptions(
    string Language,
    string Instructions,
    string? TransferNumber,
    TimeSpan IdleTimeout,
    TimeSpan MaxCallDuration,
    TimeSpan SpeculativeDelay,
    TimeSpan TurnHold,
    TimeSpan BargeInGrace)
{
    public static ConversationOptions Read(SettingsReader settings)
    {
        var language = settings.AgentLanguage();

        return new ConversationOptions(
            language,
            ReadPrompt(settings) ?? Phrases.For(language).Instructions,
            settings.TransferNumber(),
            TimeSpan.FromSeconds(settings.Int("IDLE_TIMEOUT_SECONDS", 15, 3, 600)),
            settings.MaxCallDuration(),
            TimeSpan.FromMilliseconds(settings.Int("SPECULATIVE_REPLY_MS", 250, 0, 5000)),
            TimeSpan.FromMilliseconds(settings.Int("TURN_HOLD_MS", 600, 0, 5000)),
            TimeSpan.FromMilliseconds(settings.Int("BARGE_IN_GRACE_MS", 700, 100, 5000)));
    }

    /// <summary>AGENT_PROMPT is the prompt itself, or @path to a file that holds it.</summary>
    private static string? ReadPrompt(SettingsReader settings)
    {
        var prompt = settings.Optional("AGENT_PROMPT");
        if (prompt is null || !prompt.StartsWith('@'))
        {
            return prompt;
        }

        var path = prompt[1..];
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException e)
        {
            throw new InvalidSettingException("AGENT_PROMPT", $"cannot read '{path}': {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InvalidSettingException("AGENT_PROMPT", $"cannot read '{path}': {e.Message}");
        }
    }
}
