using TelnyxAiService.Configuration;

namespace TelnyxAiService.Speech.Pocketsphinx;

/// <summary>
/// Where the pocketsphinx model lives (POCKETSPHINX_MODEL_DIR, default Debian's pocketsphinx-en-us) and an optional
/// JSGF grammar (POCKETSPHINX_GRAMMAR) that replaces the generic language model: far more accurate for a known set of
/// phrases.
/// </summary>
public sealed record PocketsphinxOptions(string ModelDirectory, string? Grammar)
{
    public const string DefaultModelDirectory = "/usr/share/pocketsphinx/model/en-us";

    public string AcousticModel => Path.Combine(ModelDirectory, "en-us");

    public string LanguageModel => Path.Combine(ModelDirectory, "en-us.lm.bin");

    public string Dictionary => Path.Combine(ModelDirectory, "cmudict-en-us.dict");

    public static PocketsphinxOptions Default { get; } = new(DefaultModelDirectory, null);

    public static PocketsphinxOptions Read(SettingsReader settings)
    {
        var modelDirectory = settings.Optional("POCKETSPHINX_MODEL_DIR");
        if (modelDirectory is not null && !Directory.Exists(modelDirectory))
        {
            throw new InvalidSettingException("POCKETSPHINX_MODEL_DIR", $"directory '{modelDirectory}' does not exist (it needs en-us/, en-us.lm.bin and cmudict-en-us.dict)");
        }

        var grammar = settings.Optional("POCKETSPHINX_GRAMMAR");
        if (grammar is not null && !File.Exists(grammar))
        {
            throw new InvalidSettingException("POCKETSPHINX_GRAMMAR", $"JSGF file '{grammar}' does not exist");
        }

        return new PocketsphinxOptions(modelDirectory ?? DefaultModelDirectory, grammar);
    }
}
