namespace TelnyxAiService.Audio;

/// <summary>G.711 µ-law and A-law (ITU-T G.711): table lookups to decode, a few shifts to encode.</summary>
internal static class G711
{
    private static readonly short[] MuLawTable = BuildTable(DecodeMuLaw);
    private static readonly short[] ALawTable = BuildTable(DecodeALaw);

    public static short MuLawToLinear(byte value) => MuLawTable[value];

    public static short ALawToLinear(byte value) => ALawTable[value];

    public static byte LinearToMuLaw(short sample)
    {
        const int Bias = 0x84;
        const int Clip = 32635;
        var sign = (sample >> 8) & 0x80;
        int magnitude = sign != 0 ? -sample : sample;
        magnitude = Math.Min(magnitude, Clip) + Bias;
        var exponent = 7;
        for (var mask = 0x4000; (magnitude & mask) == 0 && exponent > 0; mask >>= 1)
        {
            exponent--;
        }

        var mantissa = (magnitude >> (exponent + 3)) & 0x0F;
        return (byte)~(sign | (exponent << 4) | mantissa);
    }

    public static byte LinearToALaw(short sample)
    {
        var sign = sample >= 0 ? 0x80 : 0x00;
        int magnitude = sample >= 0 ? sample : -(sample + 1);
        magnitude >>= 3;
        int encoded;
        if (magnitude < 32)
        {
            encoded = magnitude >> 1;
        }
        else
        {
            var exponent = 1;
            while (magnitude >= 64 && exponent < 7)
            {
                magnitude >>= 1;
                exponent++;
            }

            encoded = (exponent << 4) | ((magnitude >> 1) & 0x0F);
        }

        return (byte)((encoded | sign) ^ 0x55);
    }

    public static void DecodeMuLaw(ReadOnlySpan<byte> input, Span<short> output)
    {
        for (var i = 0; i < input.Length; i++)
        {
            output[i] = MuLawTable[input[i]];
        }
    }

    public static void DecodeALaw(ReadOnlySpan<byte> input, Span<short> output)
    {
        for (var i = 0; i < input.Length; i++)
        {
            output[i] = ALawTable[input[i]];
        }
    }

    public static void EncodeMuLaw(ReadOnlySpan<short> input, Span<byte> output)
    {
        for (var i = 0; i < input.Length; i++)
        {
            output[i] = LinearToMuLaw(input[i]);
        }
    }

    public static void EncodeALaw(ReadOnlySpan<short> input, Span<byte> output)
    {
        for (var i = 0; i < input.Length; i++)
        {
            output[i] = LinearToALaw(input[i]);
        }
    }

    private static short[] BuildTable(Func<byte, short> decode)
    {
        var table = new short[256];
        for (var i = 0; i < table.Length; i++)
        {
            table[i] = decode((byte)i);
        }

        return table;
    }

    private static short DecodeMuLaw(byte value)
    {
        value = (byte)~value;
        var exponent = (value >> 4) & 0x07;
        var magnitude = ((((value & 0x0F) << 3) + 0x84) << exponent) - 0x84;
        return (short)((value & 0x80) != 0 ? -magnitude : magnitude);
    }

    private static short DecodeALaw(byte value)
    {
        value ^= 0x55;
        var exponent = (value >> 4) & 0x07;
        var mantissa = value & 0x0F;
        var magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
        return (short)((value & 0x80) != 0 ? magnitude : -magnitude);
    }
}
