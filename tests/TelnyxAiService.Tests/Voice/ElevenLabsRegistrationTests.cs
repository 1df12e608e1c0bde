using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Configuration;
using TelnyxAiService.Providers;
using TelnyxAiService.Tests.TestHost;
using TelnyxAiService.Voice;
using TelnyxAiService.Voice.ElevenLabs;

namespace TelnyxAiService.Tests.Voice;

public sealed class ElevenLabsRegistrationTests
{
    [Fact]
    public void Read_NoSettings_UsesDefaultsAndIsNotConfigured()
    {
        var options = ElevenLabsOptions.Read(Settings(new() { ["DEEPGRAM_API_KEY"] = "dg" }));

        Assert.False(options.IsConfigured);
        Assert.Equal("21m00Tcm4TlvDq8ikWAM", options.VoiceId);
        Assert.Equal("eleven_flash_v2_5", options.ModelId);
        Assert.Equal(new Uri("https://api.elevenlabs.io"), options.BaseUrl);
        Assert.Equal("es", options.LanguageCode);
        Assert.Equal(ProviderMode.Vendor, options.ProviderInfo.Mode);
    }

    [Fact]
    public void Read_RegionalLanguageTag_KeepsTheLanguage()
    {
        var options = ElevenLabsOptions.Read(Settings(new() { ["AGENT_LANGUAGE"] = "en-US" }));

        Assert.Equal("en", options.LanguageCode);
    }

    [Fact]
    public void Read_BadLanguage_NamesTheVariable()
    {
        var error = Assert.Throws<InvalidSettingException>(() => ElevenLabsOptions.Read(Settings(new() { ["AGENT_LANGUAGE"] = "spanish" })));

        Assert.Equal("AGENT_LANGUAGE", error.Name);
    }

    [Fact]
    public void ToString_WithKey_LeavesTheKeyOut() =>
        Assert.DoesNotContain("secret-key", ElevenLabsOptions.Read(Settings(new() { ["ELEVENLABS_API_KEY"] = "secret-key" })).ToString());

    [Fact]
    public void AddVoice_WithKeyAndLocalBaseUrl_ResolvesElevenLabsAsEmulator()
    {
        using var services = Services(new() { ["ELEVENLABS_API_KEY"] = "k", ["ELEVENLABS_BASE_URL"] = "http://127.0.0.1:5555/" });

        Assert.IsType<ElevenLabsTextToSpeech>(services.GetRequiredService<ITextToSpeech>());
        var info = services.GetRequiredService<ProviderInfo>();
        Assert.Equal(new ProviderInfo("text-to-speech", "elevenlabs", ProviderMode.Emulator, new Uri("http://127.0.0.1:5555")), info);
    }

    [Fact]
    public void AddVoice_WithoutKey_UsesFliteOffline()
    {
        using var services = Services([]);

        Assert.IsType<TelnyxAiService.Voice.Flite.FliteTextToSpeech>(services.GetRequiredService<ITextToSpeech>());
        Assert.Equal(ProviderMode.Offline, services.GetRequiredService<ProviderInfo>().Mode);
    }

    private static SettingsReader Settings(Dictionary<string, string?> values) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    private static ServiceProvider Services(Dictionary<string, string?> values)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(TestTelemetry.Instance);
        services.AddSingleton(Settings(values));
        services.AddVoice();
        return services.BuildServiceProvider();
    }
}
