using TelnyxAiService.Configuration;

namespace TelnyxAiService.Calls;

/// <summary>How the agent takes the calls people make to our Telnyx number.</summary>
/// <param name="Greeting">INBOUND_GREETING: the agent's first words; null for the language's default.</param>
/// <param name="Context">INBOUND_CONTEXT: what the agent is told about these calls (as a dialled call's context).</param>
public sealed record InboundOptions(string? Greeting, string Context)
{
    public static InboundOptions Read(SettingsReader settings) => new(
        settings.Optional("INBOUND_GREETING"),
        settings.Text("INBOUND_CONTEXT", ""));
}
