namespace TelnyxAiService.Emulators.Audio;

/// <summary>G.711 µ-law and A-law, for the emulators' own use (they share no code with the service).</summary>
public static class G711
{
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

    public static short MuLawToLinear(byte value)
    {
        value = (byte)~value;
        var sign = value & 0x80;
        var exponent = (value >> 4) & 0x07;
        var mantissa = value & 0x0F;
        var magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
        return (short)(sign != 0 ? -magnitude : magnitude);
    }

    public static byte LinearToALaw(short sample)
    {
        var sign = sample >= 0 ? 0x80 : 0x00;
        int magnitude = sample >= 0 ? sample : -(sample + 1);
        magnitude = Math.Min(magnitude, 32767) >> 3;
        byte encoded;
        if (magnitude < 32)
        {
            encoded = (byte)(magnitude >> 1);
        }
        else
        {
            var exponent = 1;
            while (magnitude >= 64 && exponent < 7)
            {
                magnitude >>= 1;
                exponent++;
            }

            encoded = (byte)((exponent << 4) | ((magnitude >> 1) & 0x0F));
        }

        return (byte)((encoded | sign) ^ 0x55);
    }

    public static short ALawToLinear(byte value)
    {
        value ^= 0x55;
        var sign = value & 0x80;
        var exponent = (value >> 4) & 0x07;
        var mantissa = value & 0x0F;
        var magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
        return (short)(sign != 0 ? magnitude : -magnitude);
    }
}
