using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using TelnyxAiService.Configuration;

namespace TelnyxAiService.Llm.Rules;

/// <summary>
/// A scripted agent: a greeting, intents tried in order (first match wins) and a fallback. An intent matches when one
/// of its keywords appears as whole words in the caller's normalised words (lowercase, no punctuation), or one of its
/// patterns (case-insensitive regular expressions) matches the caller's text. Replies may use {name} and {context}.
/// </summary>
public sealed partial class AgentScript
{
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(100);

    private AgentScript(string name, string greeting, IReadOnlyList<AgentIntent> intents, string fallback)
    {
        Name = name;
        Greeting = greeting;
        Intents = intents;
        Fallback = fallback;
    }

    public string Name { get; }

    public string Greeting { get; }

    public IReadOnlyList<AgentIntent> Intents { get; }

    public string Fallback { get; }

    /// <summary>The built-in clinic appointment line, copied next to the service's binaries.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "Llm", "Rules", "clinic.agent.json");

    /// <summary>Reads and checks a script file; any problem is an <see cref="InvalidSettingException"/> for AGENT_SCRIPT.</summary>
    public static AgentScript Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidSettingException("AGENT_SCRIPT", $"cannot read script '{path}': {e.Message}");
        }

        return Parse(json, path);
    }

    public static AgentScript Parse(string json, string source)
    {
        ScriptFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, AgentScriptJson.Default.ScriptFile);
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"not a valid script: {e.Message}");
        }

        if (file is null)
        {
            throw Invalid(source, "the script is empty");
        }

        var intents = new List<AgentIntent>();
        foreach (var (intent, index) in (file.Intents ?? []).Select((intent, index) => (intent, index)))
        {
            var where = $"intents[{index}]";
            var name = Required(intent.Name, $"{where}.name", source);
            where = $"intent '{name}'";
            var keywords = (intent.Keywords ?? []).Select(Normalize).ToArray();
            if (keywords.Any(k => k.Length == 0))
            {
                throw Invalid(source, $"{where} has an empty keyword");
            }

            var patterns = (intent.Patterns ?? []).Select(p => Pattern(p, where, source)).ToArray();
            if (keywords.Length + patterns.Length == 0)
            {
                throw Invalid(source, $"{where} needs at least one keyword or pattern");
            }

            if (intent.EndCall && intent.Transfer)
            {
                throw Invalid(source, $"{where} cannot both end the call and transfer it");
            }

            intents.Add(new AgentIntent(name, keywords, patterns, Template(intent.Reply, $"{where} reply", source), intent.EndCall, intent.Transfer));
        }

        return new AgentScript(
            Required(file.Name, "name", source),
            Template(file.Greeting, "greeting", source),
            intents,
            Template(file.Fallback, "fallback", source));
    }

    /// <summary>The first intent that matches the caller's words, or null.</summary>
    public AgentIntent? Match(string callerText)
    {
        var words = $" {Normalize(callerText)} ";
        return Intents.FirstOrDefault(intent => intent.Matches(words, callerText));
    }

    /// <summary>Lowercase words separated by single spaces; apostrophes dropped, other punctuation made a space.</summary>
    public static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            if (c is '\'' or '’')
            {
                continue;
            }

            builder.Append(char.IsLetterOrDigit(c) ? c : ' ');
        }

        return string.Join(' ', builder.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    private static Regex Pattern(string? pattern, string where, string source)
    {
        try
        {
            return new Regex(Required(pattern, $"{where} pattern", source), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, PatternTimeout);
        }
        catch (ArgumentException e)
        {
            throw Invalid(source, $"{where} has a bad pattern '{pattern}': {e.Message}");
        }
    }

    private static string Template(string? text, string where, string source)
    {
        var template = Required(text, where, source);
        if (Placeholder().Matches(template).FirstOrDefault(m => m.Value is not ("{name}" or "{context}")) is { } unknown)
        {
            throw Invalid(source, $"{where} uses {unknown.Value}; only {{name}} and {{context}} are known");
        }

        return template;
    }

    private static string Required(string? value, string where, string source) =>
        string.IsNullOrWhiteSpace(value) ? throw Invalid(source, $"{where} is required") : value.Trim();

    private static InvalidSettingException Invalid(string source, string problem) => new("AGENT_SCRIPT", $"{source}: {problem}");

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex Placeholder();

    internal sealed record ScriptFile(string? Name, string? Greeting, List<IntentFile>? Intents, string? Fallback);

    internal sealed record IntentFile(string? Name, List<string>? Keywords, List<string>? Patterns, string? Reply, bool EndCall, bool Transfer);
}

/// <summary>One intent of a script. Keywords are normalised; a pattern that runs past its timeout counts as no match.</summary>
public sealed record AgentIntent(string Name, IReadOnlyList<string> Keywords, IReadOnlyList<Regex> Patterns, string Reply, bool EndCall, bool Transfer)
{
    /// <param name="paddedWords">The normalised caller words with a space at each end.</param>
    internal bool Matches(string paddedWords, string callerText) =>
        Keywords.Any(k => paddedWords.Contains($" {k} ", StringComparison.Ordinal)) || Patterns.Any(p => Matches(p, callerText));

    private static bool Matches(Regex pattern, string text)
    {
        try
        {
            return pattern.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(AgentScript.ScriptFile))]
internal sealed partial class AgentScriptJson : JsonSerializerContext;
