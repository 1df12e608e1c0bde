using TelnyxAiService.Configuration;

namespace TelnyxAiService.Voice.Flite;

/// <summary>
/// The flite voice (FLITE_VOICE: slt, awb, rms, kal16, or the path of a 16 kHz .flitevox file; default slt) and the
/// agent's language (AGENT_LANGUAGE). flite speaks only English; other languages use espeak-ng.
/// </summary>
public sealed record FliteOptions(string Voice, string Language)
{
    /// <summary>The voices Debian's flite ships at 16 kHz (kal is 8 kHz, so it is not offered).</summary>
    public static readonly IReadOnlyList<string> BuiltInVoices = ["slt", "awb", "rms", "kal16"];

    public static FliteOptions Default { get; } = new("slt", "en");

    /// <summary>Whether flite can speak <see cref="Language"/> (en, en-US, en-GB, …).</summary>
    public bool IsEnglish => Language.Equals("en", StringComparison.OrdinalIgnoreCase) || Language.StartsWith("en-", StringComparison.OrdinalIgnoreCase);

    public static FliteOptions Read(SettingsReader settings)
    {
        var voice = settings.Text("FLITE_VOICE", "slt");
        if (!BuiltInVoices.Contains(voice) && !(voice.EndsWith(".flitevox", StringComparison.Ordinal) && File.Exists(voice)))
        {
            throw new InvalidSettingException("FLITE_VOICE", $"must be one of {string.Join(", ", BuiltInVoices)} or an existing .flitevox file, got '{voice}'");
        }

        var language = settings.AgentLanguage();

        return new FliteOptions(voice, language);
    }

}
