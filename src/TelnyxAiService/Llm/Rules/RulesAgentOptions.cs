using TelnyxAiService.Configuration;

namespace TelnyxAiService.Llm.Rules;

/// <summary>The rules agent's script: the file named by AGENT_SCRIPT, or the built-in clinic appointment line.</summary>
public sealed record RulesAgentOptions(AgentScript Script)
{
    public static RulesAgentOptions Read(SettingsReader settings) =>
        new(AgentScript.Load(settings.Text("AGENT_SCRIPT", AgentScript.DefaultPath)));
}
