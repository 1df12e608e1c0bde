using Microsoft.Extensions.Configuration;
using TelnyxAiService.Configuration;

namespace TelnyxAiService.Tests.Configuration;

public sealed class SettingsReaderTests
{
    [Theory]
    [InlineData(null, null, null, "en")]
    [InlineData("dg-key", null, null, "es")]
    [InlineData(null, "false", null, "es")]
    [InlineData(null, null, "es-419", "es-419")]
    [InlineData("dg-key", null, "EN", "en")]
    public void AgentLanguage_Default_FollowsWhoListens(string? deepgramKey, string? mediaStreams, string? language, string expected)
    {
        var settings = Reader(new() { ["DEEPGRAM_API_KEY"] = deepgramKey, ["USE_MEDIA_STREAMS"] = mediaStreams, ["AGENT_LANGUAGE"] = language });
        Assert.Equal(expected, settings.AgentLanguage());
    }

    [Theory]
    [InlineData("PORT", "70000")]
    [InlineData("PORT", "3e3")]
    [InlineData("CALLS", "fast")]
    public void Int_OutOfRangeOrNotANumber_NamesTheVariable(string name, string value)
    {
        var error = Assert.Throws<InvalidSettingException>(() => Reader(new() { [name] = value }).Int(name, 1, 0, 65535));
        Assert.StartsWith($"{name}: must be a whole number", error.Message);
    }

    [Fact]
    public void Url_TrailingSlashAndScheme_Checked()
    {
        Assert.Equal("https://api.example.test/v2", Reader(new() { ["U"] = "https://api.example.test/v2/" }).Url("U", null, "https")!.ToString());
        Assert.Throws<InvalidSettingException>(() => Reader(new() { ["U"] = "api.example.test" }).Url("U", null, "https"));
    }

    private static SettingsReader Reader(Dictionary<string, string?> values) => new(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
}
