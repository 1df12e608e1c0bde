using TelnyxAiService.Emulators.Hosting;

namespace TelnyxAiService.Tests.Emulators;

public sealed class EmulatorKnobsTests
{
    [Fact]
    public void Apply_KnobsFile_SetsNumbersFlagsAndStrings()
    {
        var knobs = new EmulatorKnobs();
        knobs.Apply("""{"anthropic-ttft-ms": 400, "anthropic-tokens-per-second": 62.5, "telnyx-duplicate-webhooks": true, "port-base": "0"}""");

        Assert.Equal(TimeSpan.FromMilliseconds(400), knobs.AnthropicTimeToFirstToken);
        Assert.Equal(62.5, knobs.AnthropicTokensPerSecond);
        Assert.True(knobs.TelnyxDuplicateWebhooks);
        Assert.Equal(0, knobs.PortBase);
    }

    [Theory]
    [InlineData("""[400]""", "one JSON object")]
    [InlineData("""null""", "one JSON object")]
    [InlineData("""{"anthropic-ttft-ms": {"ms": 400}}""", "one JSON object")]
    [InlineData("""{"anthropic-ttft-ms": "soon"}""", "anthropic-ttft-ms")]
    [InlineData("""{"no-such-knob": 1}""", "no-such-knob")]
    public void Apply_BadKnobsFile_NamesTheProblem(string json, string named)
    {
        var error = Assert.Throws<InvalidKnobException>(() => new EmulatorKnobs().Apply(json));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
