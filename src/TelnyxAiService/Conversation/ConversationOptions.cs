using TelnyxAiService.Configuration;
using TelnyxAiService.Telephony;

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

        var transfer = settings.Optional("TRANSFER_NUMBER");
        if (transfer is not null && !PhoneNumber.IsE164(transfer))
        {
            throw new InvalidSettingException("TRANSFER_NUMBER", $"must be E.164 ('+' and 8 to 15 digits), got '{transfer}'");
        }

        return new ConversationOptions(
            language,
            ReadPrompt(settings) ?? Phrases.For(language).Instructions,
            transfer,
            TimeSpan.FromSeconds(settings.Int("IDLE_TIMEOUT_SECONDS", 15, 3, 600)),
            TimeSpan.FromSeconds(settings.Int("MAX_CALL_SECONDS", 900, 10, 14400)),
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
