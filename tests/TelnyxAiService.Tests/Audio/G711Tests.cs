using TelnyxAiService.Audio;

namespace TelnyxAiService.Tests.Audio;

public sealed class G711Tests
{
    [Theory]
    [InlineData(0xFF, 0)]
    [InlineData(0x7F, 0)]
    [InlineData(0x00, -32124)]
    [InlineData(0x80, 32124)]
    [InlineData(0xF0, 120)]
    [InlineData(0x70, -120)]
    public void MuLawToLinear_KnownCodes_DecodeToG711Values(int code, int expected) =>
        Assert.Equal(expected, G711.MuLawToLinear((byte)code));

    [Theory]
    [InlineData(0xD5, 8)]
    [InlineData(0x55, -8)]
    [InlineData(0xAA, 32256)]
    [InlineData(0x2A, -32256)]
    public void ALawToLinear_KnownCodes_DecodeToG711Values(int code, int expected) =>
        Assert.Equal(expected, G711.ALawToLinear((byte)code));

    [Theory]
    [InlineData(0, 0xFF, 0xD5)]
    [InlineData(short.MaxValue, 0x80, 0xAA)]
    [InlineData(short.MinValue, 0x00, 0x2A)]
    [InlineData(-1, 0x7F, 0x55)]
    public void Encode_KnownSamples_GiveG711Codes(short sample, int muLaw, int aLaw)
    {
        Assert.Equal(muLaw, G711.LinearToMuLaw(sample));
        Assert.Equal(aLaw, G711.LinearToALaw(sample));
    }

    [Fact]
    public void EncodeOfDecode_EveryCode_GivesTheSameCode()
    {
        for (var code = 0; code < 256; code++)
        {
            // 0x7F is µ-law's negative zero, which encodes back as positive zero.
            Assert.Equal(code == 0x7F ? 0xFF : code, G711.LinearToMuLaw(G711.MuLawToLinear((byte)code)));
            Assert.Equal(code, G711.LinearToALaw(G711.ALawToLinear((byte)code)));
        }
    }

    [Fact]
    public void DecodeOfEncode_AnySample_StaysWithinTheQuantisationStep()
    {
        for (int sample = short.MinValue; sample <= short.MaxValue; sample += 7)
        {
            var s = (short)sample;
            var tolerance = Math.Max(16, Math.Abs(sample) / 16.0) + 130;
            Assert.InRange(G711.MuLawToLinear(G711.LinearToMuLaw(s)), sample - tolerance, sample + tolerance);
            Assert.InRange(G711.ALawToLinear(G711.LinearToALaw(s)), sample - tolerance, sample + tolerance);
        }
    }
}
