using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Configuration;
using TelnyxAiService.Llm;
using TelnyxAiService.Llm.Claude;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Tests.Llm;

public sealed class ClaudeRegistrationTests
{
    [Fact]
    public void Options_Defaults_AreOneSpokenReplyOnHaiku()
    {
        var options = ClaudeOptions.Read(Settings(new() { ["ANTHROPIC_API_KEY"] = "sk-ant-x" }));

        Assert.True(options.IsConfigured);
        Assert.Equal(new Uri("https://api.anthropic.com"), options.BaseUrl);
        Assert.Equal("claude-haiku-4-5", options.Model);
        Assert.Equal(300, options.MaxTokens);
        Assert.Null(options.TransferNumber);
        Assert.Equal(TimeSpan.FromSeconds(4), options.FirstTokenTimeout);
        Assert.DoesNotContain("sk-ant-x", options.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ANTHROPIC_BASE_URL", "https://api.anthropic.com/v1")]
    [InlineData("ANTHROPIC_BASE_URL", "not a url")]
    [InlineData("TRANSFER_NUMBER", "555-1234")]
    [InlineData("CLAUDE_MAX_TOKENS", "0")]
    public void Options_BadValue_NamesTheSetting(string name, string value)
    {
        var error = Assert.Throws<InvalidSettingException>(() => ClaudeOptions.Read(Settings(new() { [name] = value })));

        Assert.Equal(name, error.Name);
    }

    [Fact]
    public async Task AddLlm_WithKey_RegistersClaudeAndItsHealthLine()
    {
        await using var factory = App(new() { ["ANTHROPIC_API_KEY"] = "sk-ant-x", ["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:5005" });

        Assert.IsType<ClaudeAgent>(factory.Services.GetRequiredService<IAgent>());
        var info = Assert.Single(factory.Services.GetServices<ProviderInfo>(), p => p.Capability == "llm");
        Assert.Equal(new ProviderInfo("llm", "anthropic", ProviderMode.Emulator, new Uri("http://127.0.0.1:5005")), info);
    }

    [Fact]
    public async Task AddLlm_WithoutKey_UsesTheRulesAgentOffline()
    {
        await using var factory = App([]);

        Assert.IsType<TelnyxAiService.Llm.Rules.RulesAgent>(factory.Services.GetRequiredService<IAgent>());
        var info = factory.Services.GetServices<ProviderInfo>().Single(p => p.Capability == "llm");
        Assert.Equal(("rules", ProviderMode.Offline), (info.Provider, info.Mode));
    }

    private static SettingsReader Settings(Dictionary<string, string?> values) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    private static WebApplicationFactory<Program> App(Dictionary<string, string> settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("TELNYX_API_KEY", "KEY");
            b.UseSetting("TELNYX_CONNECTION_ID", "conn");
            b.UseSetting("TELNYX_PHONE_NUMBER", "+15550001111");
            b.UseSetting("WEBHOOK_BASE_URL", "https://example.test");
            foreach (var (name, value) in settings)
            {
                b.UseSetting(name, value);
            }
        });
}
