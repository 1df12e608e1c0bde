using TelnyxAiService.Audio;

namespace TelnyxAiService.Tests.Audio;

public sealed class WavFileTests
{
    [Fact]
    public void Create_TwoSamplesAt8k_WritesTheCanonicalHeader()
    {
        var file = WavFile.Create([0x01, 0x00, 0xFF, 0xFF], 8000);

        byte[] expected =
        [
            (byte)'R', (byte)'I', (byte)'F', (byte)'F', 40, 0, 0, 0, (byte)'W', (byte)'A', (byte)'V', (byte)'E',
            (byte)'f', (byte)'m', (byte)'t', (byte)' ', 16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1F, 0, 0, 0x80, 0x3E, 0, 0, 2, 0, 16, 0,
            (byte)'d', (byte)'a', (byte)'t', (byte)'a', 4, 0, 0, 0, 0x01, 0x00, 0xFF, 0xFF,
        ];
        Assert.Equal(expected, file);
    }

    [Fact]
    public async Task WriteAsync_SameSamples_MatchesCreate()
    {
        byte[] l16 = [1, 2, 3, 4, 5, 6];
        using var stream = new MemoryStream();

        await WavFile.WriteAsync(stream, l16, 16000, TestContext.Current.CancellationToken);

        Assert.Equal(WavFile.Create(l16, 16000), stream.ToArray());
    }

    [Fact]
    public void Read_FileWithListChunk_ReturnsFormatAndSamples()
    {
        var samples = AudioTestSignals.Encode(AudioTestSignals.Tone(440, 16000, TimeSpan.FromMilliseconds(20)), AudioEncoding.L16);
        var plain = WavFile.Create(samples, 16000);
        byte[] list = [(byte)'L', (byte)'I', (byte)'S', (byte)'T', 3, 0, 0, 0, 1, 2, 3, 0];
        var file = plain[..36].Concat(list).Concat(plain[36..]).ToArray();

        var frame = WavFile.Read(file);

        Assert.Equal(AudioFormat.L16At16k, frame.Format);
        Assert.Equal(samples, frame.Payload.ToArray());
    }

    [Fact]
    public void Read_StereoFile_Throws()
    {
        var file = WavFile.Create([0, 0, 0, 0], 8000);
        file[22] = 2;

        Assert.Throws<InvalidDataException>(() => WavFile.Read(file));
    }
}
