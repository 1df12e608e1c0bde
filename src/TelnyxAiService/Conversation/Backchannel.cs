namespace TelnyxAiService.Conversation;

/// <summary>
/// Words a listener says to show they are following ("ok", "ajá", "mm-hm", "sí", "vale", "uh-huh"): said alone over
/// the agent they are not an interruption.
/// </summary>
public static class Backchannel
{
    private static readonly HashSet<string> Words = new(StringComparer.Ordinal)
    {
        "ok", "okay", "okey", "vale", "sí", "si", "ajá", "aja", "ah", "aha", "ahá", "mm", "mmm", "mhm", "mm-hm", "mm-hmm", "hm", "hmm",
        "uh-huh", "uh", "huh", "yeah", "yes", "yep", "right", "sure", "claro", "bueno", "ya", "entiendo", "exacto", "perfecto", "good",
        "i", "see", "got", "it", "de", "acuerdo",
    };

    /// <summary>True when every word is a backchannel word (and there is at least one).</summary>
    public static bool IsBackchannel(string text)
    {
        var words = TurnText.Words(text);
        return words.Count is > 0 and <= 3 && words.All(Words.Contains);
    }
}

public static class TurnText
{
    /// <summary>Lower-case words without punctuation ("¿Sí, vale?" → ["sí", "vale"]).</summary>
    public static IReadOnlyList<string> Words(string text) =>
        text.ToLowerInvariant()
            .Split([' ', '\t', '\n', ',', '.', '?', '!', '¿', '¡', ';', ':', '"', '…'], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Whether two transcripts say the same words (speculation check).</summary>
    public static bool SameWords(string a, string b) => Words(a).SequenceEqual(Words(b));

    public static string Join(string? first, string second) =>
        string.IsNullOrWhiteSpace(first) ? second.Trim() : $"{first.Trim()} {second.Trim()}".Trim();
}
