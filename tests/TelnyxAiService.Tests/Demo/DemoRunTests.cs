using System.Buffers.Binary;
using TelnyxAiService.Demo;
using TelnyxAiService.Llm;

namespace TelnyxAiService.Tests.Demo;

/// <summary>The demo's whole run: the real service, pocketsphinx, flite and festival, in real time (about a minute each).</summary>
public sealed class DemoRunTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Demo_ClinicBooking_ThreeOrMoreExchangesRecognisedAndAPlayableWav()
    {
        var wav = Path.Combine(Path.GetTempPath(), $"demo-test-{Guid.NewGuid():N}.wav");
        var output = new StringWriter();
        try
        {
            var result = await DemoRun.RunAsync(new DemoOptions(Persona.DefaultPath, wav), output, Ct);

            Assert.True(result.ExitCode == 0, output.ToString());
            Assert.True(result.Exchanges.Count >= 3, output.ToString());
            Assert.True(result.Accuracy!.Accuracy >= 0.8, output.ToString());
            Assert.Contains(result.History, m => m.Speaker == Speaker.Agent && m.Text.Contains("Goodbye", StringComparison.Ordinal));
            Assert.Contains("Word accuracy:", output.ToString());
            Assert.Contains("voice=", output.ToString());

            var bytes = await File.ReadAllBytesAsync(wav, Ct);
            Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(bytes, 0, 4));
            Assert.Equal("WAVE", System.Text.Encoding.ASCII.GetString(bytes, 8, 4));
            Assert.Equal(2, BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(22)));
            Assert.Equal(16000, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(24)));
            var data = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(40));
            Assert.Equal(bytes.Length - 44, data);
            Assert.True(data > 16000 * 4 * 10, "at least ten seconds of audio");
            Assert.True(Loudest(bytes, channel: 0) > 1000, "the callee's channel holds speech");
            Assert.True(Loudest(bytes, channel: 1) > 1000, "the agent's channel holds speech");
        }
        finally
        {
            File.Delete(wav);
        }
    }

    [Fact]
    public async Task Demo_BargeInPersona_AgentCutOffShowsInTranscript()
    {
        var persona = Path.Combine(Path.GetDirectoryName(Persona.DefaultPath)!, "clinic-barge-in.json");
        var output = new StringWriter();

        var result = await DemoRun.RunAsync(new DemoOptions(persona), output, Ct);

        Assert.True(result.ExitCode == 0, output.ToString());
        Assert.True(result.BargeIns >= 1, output.ToString());
        Assert.Contains("✂ the callee barged in", output.ToString());
        Assert.True(result.Accuracy!.Accuracy >= 0.8, output.ToString());
        File.Delete(result.WavPath!);
    }

    private static int Loudest(byte[] wav, int channel)
    {
        var loudest = 0;
        for (var offset = 44 + (channel * 2); offset + 1 < wav.Length; offset += 4)
        {
            loudest = Math.Max(loudest, Math.Abs((int)BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(offset))));
        }

        return loudest;
    }
}
