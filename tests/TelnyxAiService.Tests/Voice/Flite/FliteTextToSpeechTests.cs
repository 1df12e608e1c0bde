using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using TelnyxAiService.Audio;
using TelnyxAiService.Configuration;
using TelnyxAiService.Providers;
using TelnyxAiService.Voice.Flite;

namespace TelnyxAiService.Tests.Voice.Flite;

public sealed class FliteTextToSpeechTests
{
    [Fact]
    public async Task Synthesize_EnglishSentence_YieldsSpeechAt16kHz()
    {
        var tts = new FliteTextToSpeech(FliteOptions.Default, NullLogger<FliteTextToSpeech>.Instance);

        var chunks = await Collect(tts, "I would like to book an appointment for tomorrow.");

        Assert.All(chunks, c => Assert.Equal(0, c.Length % 2));
        var pcm = chunks.SelectMany(c => c.ToArray()).ToArray();
        // flite's slt voice says this in about 3.1 s.
        var duration = AudioFormat.L16At16k.DurationOf(pcm.Length);
        Assert.InRange(duration.TotalSeconds, 2.0, 4.5);
        Assert.InRange(PeakOf(pcm), 3000, 32767);
    }

    [Fact]
    public async Task Synthesize_SpanishLanguage_UsesEspeakResampledTo16kHz()
    {
        var tts = new FliteTextToSpeech(FliteOptions.Default with { Language = "es" }, NullLogger<FliteTextToSpeech>.Instance);

        var pcm = (await Collect(tts, "Hola, me gustaría reservar una cita para mañana por la tarde.")).SelectMany(c => c.ToArray()).ToArray();

        // espeak-ng says this in about 4.2 s; at 16 kHz that is about 134 kB (it would be 185 kB at 22.05 kHz).
        Assert.InRange(AudioFormat.L16At16k.DurationOf(pcm.Length).TotalSeconds, 3.0, 5.5);
        Assert.InRange(PeakOf(pcm), 3000, 32767);
    }

    [Fact]
    public async Task Synthesize_UnknownEspeakLanguage_ThrowsNamingEspeak()
    {
        var tts = new FliteTextToSpeech(FliteOptions.Default with { Language = "zz" }, NullLogger<FliteTextToSpeech>.Instance);

        var error = await Assert.ThrowsAsync<ProviderException>(() => Collect(tts, "hola"));

        Assert.Contains("espeak-ng failed", error.Message, StringComparison.Ordinal);
        Assert.False(error.Retryable);
    }

    [Fact]
    public async Task Synthesize_MuLawRequested_ThrowsNotRetryable()
    {
        var tts = new FliteTextToSpeech(FliteOptions.Default, NullLogger<FliteTextToSpeech>.Instance);

        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var _ in tts.SynthesizeAsync("hello", AudioFormat.Pcmu8k, TestContext.Current.CancellationToken))
            {
            }
        });

        Assert.False(error.Retryable);
        Assert.Contains("PCMU/8000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Synthesize_Cancelled_StopsWithCancellation()
    {
        var tts = new FliteTextToSpeech(FliteOptions.Default with { Language = "es" }, NullLogger<FliteTextToSpeech>.Instance);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in tts.SynthesizeAsync(string.Join(' ', Enumerable.Repeat("Esta frase es muy larga.", 40)), AudioFormat.L16At16k, cancel.Token))
            {
                await cancel.CancelAsync();
            }
        });
    }

    [Theory]
    [InlineData("kal")]
    [InlineData("nope")]
    public void Read_VoiceNotA16kHzVoice_Throws(string voice)
    {
        var error = Assert.Throws<InvalidSettingException>(() => FliteOptions.Read(Settings(("FLITE_VOICE", voice))));

        Assert.Equal("FLITE_VOICE", error.Name);
    }

    [Fact]
    public void Read_NoSettings_SltInEnglish()
    {
        Assert.Equal(FliteOptions.Default, FliteOptions.Read(Settings()));
    }

    private static SettingsReader Settings(params (string Name, string Value)[] values) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Name, (string?)v.Value))).Build());

    private static async Task<List<ReadOnlyMemory<byte>>> Collect(FliteTextToSpeech tts, string text)
    {
        var chunks = new List<ReadOnlyMemory<byte>>();
        await foreach (var chunk in tts.SynthesizeAsync(text, AudioFormat.L16At16k, TestContext.Current.CancellationToken))
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    private static int PeakOf(byte[] pcm)
    {
        var peak = 0;
        for (var i = 0; i + 1 < pcm.Length; i += 2)
        {
            peak = Math.Max(peak, Math.Abs((int)(short)(pcm[i] | (pcm[i + 1] << 8))));
        }

        return peak;
    }
}
