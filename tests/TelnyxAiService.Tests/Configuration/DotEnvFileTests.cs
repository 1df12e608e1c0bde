using TelnyxAiService.Configuration;

namespace TelnyxAiService.Tests.Configuration;

public sealed class DotEnvFileTests
{
    [Fact]
    public void Parse_CommentsQuotesAndExport_ReadsValues()
    {
        var pairs = DotEnvFile.Parse([
            "# a comment",
            "",
            "TELNYX_API_KEY=KEY123 # trailing comment",
            "export PORT=3100",
            "AGENT_PROMPT=\"Eres un agente # no es comentario\"",
            "NOT A PAIR",
        ]).ToList();
        Assert.Equal([("TELNYX_API_KEY", "KEY123"), ("PORT", "3100"), ("AGENT_PROMPT", "Eres un agente # no es comentario")], pairs);
    }
}
