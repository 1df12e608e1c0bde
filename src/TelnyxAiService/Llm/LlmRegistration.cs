using TelnyxAiService.Configuration;
using TelnyxAiService.Llm.Claude;
using TelnyxAiService.Llm.Rules;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Llm;

public static class LlmRegistration
{
    public static IServiceCollection AddLlm(this IServiceCollection services)
    {
        services.AddSettings(ClaudeOptions.Read);
        services.AddSingleton<ClaudeAgent>();
        services.AddSettings(RulesAgentOptions.Read);
        services.AddSingleton<RulesAgent>();
        services.AddSingleton(new SettingsCheck(sp => sp.GetRequiredService<IAgent>()));
        services.AddSingleton(sp => Choose(sp).Agent);
        services.AddSingleton(sp => Choose(sp).Info);
        return services;
    }

    /// <summary>
    /// The one place the agent is chosen, when first resolved (settings given to a test host arrive only then):
    /// Claude when ANTHROPIC_API_KEY is set, otherwise the rules agent and its script (AGENT_SCRIPT).
    /// </summary>
    private static (IAgent Agent, ProviderInfo Info) Choose(IServiceProvider services)
    {
        var claude = services.GetRequiredService<ClaudeOptions>();
        if (claude.IsConfigured)
        {
            var mode = claude.BaseUrl.Host == "api.anthropic.com" ? ProviderMode.Vendor : ProviderMode.Emulator;
            return (services.GetRequiredService<ClaudeAgent>(), new ProviderInfo("llm", "anthropic", mode, claude.BaseUrl));
        }

        return (services.GetRequiredService<RulesAgent>(), new ProviderInfo("llm", "rules", ProviderMode.Offline, null));
    }
}
