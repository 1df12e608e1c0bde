using TelnyxAiService.Configuration;

namespace TelnyxAiService.Llm.Claude;

/// <summary>Claude settings. Without ANTHROPIC_API_KEY Claude is not configured and another agent answers.</summary>
public sealed record ClaudeOptions(
    string? ApiKey,
    Uri BaseUrl,
    string Model,
    int MaxTokens,
    string? TransferNumber,
    TimeSpan FirstTokenTimeout)
{
    public const string DefaultBaseUrl = "https://api.anthropic.com";

    public bool IsConfigured => ApiKey is not null;

    /// <summary>Leaves the key out, so the options can be logged.</summary>
    public override string ToString() => $"ClaudeOptions {{ BaseUrl = {BaseUrl}, Model = {Model}, MaxTokens = {MaxTokens} }}";

    public static ClaudeOptions Read(SettingsReader settings)
    {
        var baseUrl = settings.Url("ANTHROPIC_BASE_URL", DefaultBaseUrl, "https", "http")!;
        if (baseUrl.AbsolutePath.TrimEnd('/').EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidSettingException("ANTHROPIC_BASE_URL", $"must not end in /v1 (the client adds /v1/messages), got '{baseUrl}'");
        }

        return new ClaudeOptions(
            settings.Optional("ANTHROPIC_API_KEY"),
            baseUrl,
            settings.Text("CLAUDE_MODEL", "claude-haiku-4-5"),
            settings.Int("CLAUDE_MAX_TOKENS", 300, 1, 64000),
            settings.TransferNumber(),
            TimeSpan.FromMilliseconds(settings.Int("CLAUDE_FIRST_TOKEN_TIMEOUT_MS", 4000, 100, 120000)));
    }
}
