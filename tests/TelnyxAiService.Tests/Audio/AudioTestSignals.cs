using TelnyxAiService.Audio;

namespace TelnyxAiService.Tests.Audio;

/// <summary>Test signals built from sines, as 16-bit samples.</summary>
internal static class AudioTestSignals
{
    public static short[] Tone(double frequency, int sampleRate, TimeSpan duration, double amplitude = 8000)
    {
        var samples = new short[(int)(sampleRate * duration.TotalSeconds)];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (short)(amplitude * Math.Sin(2 * Math.PI * frequency * i / sampleRate));
        }

        return samples;
    }

    public static byte[] Encode(ReadOnlySpan<short> samples, AudioEncoding encoding)
    {
        var bytes = new byte[samples.Length * (encoding == AudioEncoding.L16 ? 2 : 1)];
        AudioConverter.Encode(samples, encoding, bytes);
        return bytes;
    }

    public static short[] Decode(ReadOnlySpan<byte> bytes, AudioEncoding encoding)
    {
        var samples = new short[bytes.Length];
        return samples[..AudioConverter.Decode(bytes, encoding, samples)];
    }

    public static double Rms(ReadOnlySpan<short> samples)
    {
        double sum = 0;
        foreach (var s in samples)
        {
            sum += (double)s * s;
        }

        return Math.Sqrt(sum / samples.Length);
    }

    /// <summary>Frequency estimated from rising zero crossings, skipping the first and last 10% (filter start-up).</summary>
    public static double Frequency(ReadOnlySpan<short> samples, int sampleRate)
    {
        var from = samples.Length / 10;
        var to = samples.Length - from;
        var crossings = 0;
        for (var i = from + 1; i < to; i++)
        {
            if (samples[i - 1] < 0 && samples[i] >= 0)
            {
                crossings++;
            }
        }

        return crossings * (double)sampleRate / (to - from);
    }
}
