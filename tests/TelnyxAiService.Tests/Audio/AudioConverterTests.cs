using TelnyxAiService.Audio;

namespace TelnyxAiService.Tests.Audio;

public sealed class AudioConverterTests
{
    private static readonly AudioFormat L16At8k = new(AudioEncoding.L16, 8000);

    [Fact]
    public void Convert_L16At16kToPcmu_HalvesTheSamplesAndKeepsTheTone()
    {
        var tone = AudioTestSignals.Tone(440, 16000, TimeSpan.FromSeconds(1));

        var pcmu = AudioConverter.Convert(AudioTestSignals.Encode(tone, AudioEncoding.L16), AudioFormat.L16At16k, AudioFormat.Pcmu8k);

        Assert.Equal(8000, pcmu.Length);
        var decoded = AudioTestSignals.Decode(pcmu, AudioEncoding.Pcmu);
        Assert.InRange(AudioTestSignals.Rms(decoded), 0.9 * AudioTestSignals.Rms(tone), 1.1 * AudioTestSignals.Rms(tone));
        Assert.InRange(AudioTestSignals.Frequency(decoded, 8000), 430, 450);
    }

    [Fact]
    public void Convert_PcmuToL16At16k_DoublesTheSamplesAndKeepsTheTone()
    {
        var tone = AudioTestSignals.Tone(440, 8000, TimeSpan.FromSeconds(1));

        var l16 = AudioConverter.Convert(AudioTestSignals.Encode(tone, AudioEncoding.Pcmu), AudioFormat.Pcmu8k, AudioFormat.L16At16k);

        Assert.Equal(32000, l16.Length);
        var decoded = AudioTestSignals.Decode(l16, AudioEncoding.L16);
        Assert.InRange(AudioTestSignals.Rms(decoded), 0.9 * AudioTestSignals.Rms(tone), 1.1 * AudioTestSignals.Rms(tone));
        Assert.InRange(AudioTestSignals.Frequency(decoded, 16000), 430, 450);
    }

    [Theory]
    [InlineData(AudioEncoding.Pcmu)]
    [InlineData(AudioEncoding.Pcma)]
    public void Convert_L16At16kThroughG711AndBack_KeepsLengthEnergyAndFrequency(AudioEncoding codec)
    {
        var tone = AudioTestSignals.Tone(440, 16000, TimeSpan.FromSeconds(1));
        var l16 = AudioTestSignals.Encode(tone, AudioEncoding.L16);
        var narrow = new AudioFormat(codec, 8000);

        var back = AudioConverter.Convert(AudioConverter.Convert(l16, AudioFormat.L16At16k, narrow), narrow, AudioFormat.L16At16k);

        Assert.Equal(l16.Length, back.Length);
        var decoded = AudioTestSignals.Decode(back, AudioEncoding.L16);
        Assert.InRange(AudioTestSignals.Rms(decoded), 0.9 * AudioTestSignals.Rms(tone), 1.1 * AudioTestSignals.Rms(tone));
        Assert.InRange(AudioTestSignals.Frequency(decoded, 16000), 430, 450);
    }

    [Fact]
    public void Convert_PcmuToPcma_KeepsTheTone()
    {
        var tone = AudioTestSignals.Tone(440, 8000, TimeSpan.FromSeconds(1));

        var pcma = AudioConverter.Convert(AudioTestSignals.Encode(tone, AudioEncoding.Pcmu), AudioFormat.Pcmu8k, AudioFormat.Pcma8k);

        Assert.Equal(8000, pcma.Length);
        Assert.InRange(AudioTestSignals.Rms(AudioTestSignals.Decode(pcma, AudioEncoding.Pcma)), 0.95 * AudioTestSignals.Rms(tone), 1.05 * AudioTestSignals.Rms(tone));
    }

    [Fact]
    public void Convert_L16At16kTo8k_FiltersOutToneAboveTheNewNyquist()
    {
        var tone = AudioTestSignals.Tone(6000, 16000, TimeSpan.FromSeconds(1));

        var narrow = AudioConverter.Convert(AudioTestSignals.Encode(tone, AudioEncoding.L16), AudioFormat.L16At16k, L16At8k);

        // Without the low-pass the 6 kHz tone would fold down to 2 kHz at full strength.
        Assert.True(AudioTestSignals.Rms(AudioTestSignals.Decode(narrow, AudioEncoding.L16)) < 0.05 * AudioTestSignals.Rms(tone));
    }

    [Theory]
    [InlineData(AudioEncoding.L16, 16000, AudioEncoding.Pcmu, 8000)]
    [InlineData(AudioEncoding.Pcma, 8000, AudioEncoding.L16, 16000)]
    [InlineData(AudioEncoding.L16, 16000, AudioEncoding.L16, 8000)]
    public void Convert_InOddSizedChunks_MatchesConvertingTheWholeBuffer(AudioEncoding fromEncoding, int fromRate, AudioEncoding toEncoding, int toRate)
    {
        var from = new AudioFormat(fromEncoding, fromRate);
        var to = new AudioFormat(toEncoding, toRate);
        var input = AudioTestSignals.Encode(AudioTestSignals.Tone(440, fromRate, TimeSpan.FromSeconds(0.5)), fromEncoding);
        var whole = AudioConverter.Convert(input, from, to);

        var converter = new AudioConverter(from, to);
        var pieces = new List<byte>();
        for (var offset = 0; offset < input.Length; offset += 333)
        {
            var chunk = input.AsSpan(offset, Math.Min(333, input.Length - offset));
            var output = new byte[converter.MaxOutputBytes(chunk.Length)];
            pieces.AddRange(output.AsSpan(0, converter.Convert(chunk, output)).ToArray());
        }

        Assert.Equal(whole, pieces.ToArray());
    }

    [Fact]
    public void Constructor_UnsupportedFormat_Throws() =>
        Assert.Throws<ArgumentException>(() => new AudioConverter(new AudioFormat(AudioEncoding.Pcmu, 16000), AudioFormat.Pcmu8k));
}
