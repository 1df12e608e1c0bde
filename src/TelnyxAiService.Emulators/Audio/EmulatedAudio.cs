namespace TelnyxAiService.Emulators.Audio;

/// <summary>An audio format as the vendors name it on the wire: PCMU, PCMA or L16 (little-endian here), mono.</summary>
public sealed record EmulatedAudioFormat(string Encoding, int SampleRate)
{
    public static EmulatedAudioFormat Pcmu8k { get; } = new("PCMU", 8000);

    public static EmulatedAudioFormat Pcma8k { get; } = new("PCMA", 8000);

    public static EmulatedAudioFormat L16At16k { get; } = new("L16", 16000);

    public int BytesPerSample => Encoding == "L16" ? 2 : 1;

    public int BytesPer(TimeSpan duration) => (int)(SampleRate * duration.TotalSeconds) * BytesPerSample;

    public TimeSpan DurationOf(int bytes) => TimeSpan.FromSeconds((double)bytes / BytesPerSample / SampleRate);

    public byte[] Encode(ReadOnlySpan<short> samples)
    {
        var output = new byte[samples.Length * BytesPerSample];
        for (var i = 0; i < samples.Length; i++)
        {
            switch (Encoding)
            {
                case "PCMU":
                    output[i] = G711.LinearToMuLaw(samples[i]);
                    break;
                case "PCMA":
                    output[i] = G711.LinearToALaw(samples[i]);
                    break;
                default:
                    output[2 * i] = (byte)samples[i];
                    output[(2 * i) + 1] = (byte)(samples[i] >> 8);
                    break;
            }
        }

        return output;
    }

    public short[] Decode(ReadOnlySpan<byte> payload)
    {
        var samples = new short[payload.Length / BytesPerSample];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = Encoding switch
            {
                "PCMU" => G711.MuLawToLinear(payload[i]),
                "PCMA" => G711.ALawToLinear(payload[i]),
                _ => (short)(payload[2 * i] | (payload[(2 * i) + 1] << 8)),
            };
        }

        return samples;
    }
}

/// <summary>
/// Speech-like audio for emulated callers and voices: a voiced buzz with a syllable-rate envelope, loud enough for any
/// energy detector, with no internal gap longer than a few milliseconds, so one utterance is one burst of speech.
/// Its length follows the text (about 65 ms a character, 15 characters a second, like natural speech).
/// </summary>
public static class SyntheticSpeech
{
    public static readonly TimeSpan PerCharacter = TimeSpan.FromMilliseconds(65);

    public static TimeSpan DurationOf(string text) => PerCharacter * Math.Max(4, text.Trim().Length);

    public static short[] Samples(TimeSpan duration, int sampleRate, int seed = 1)
    {
        var count = (int)(duration.TotalSeconds * sampleRate);
        var samples = new short[count];
        var random = new Random(seed);
        var pitch = 110.0 + (seed % 7 * 15);
        for (var i = 0; i < count; i++)
        {
            var t = (double)i / sampleRate;
            var syllable = 0.55 + (0.45 * Math.Abs(Math.Sin(Math.PI * 4 * t)));
            var voiced = Math.Sin(2 * Math.PI * pitch * t) + (0.5 * Math.Sin(2 * Math.PI * pitch * 2 * t)) + (0.25 * Math.Sin(2 * Math.PI * pitch * 3 * t));
            var noise = (random.NextDouble() - 0.5) * 0.3;
            samples[i] = (short)Math.Clamp(6000 * syllable * (voiced + noise), short.MinValue, short.MaxValue);
        }

        return samples;
    }

    public static byte[] For(string text, EmulatedAudioFormat format, int seed = 1) =>
        format.Encode(Samples(DurationOf(text), format.SampleRate, seed));

    public static byte[] Silence(TimeSpan duration, EmulatedAudioFormat format) =>
        format.Encode(new short[(int)(duration.TotalSeconds * format.SampleRate)]);

    /// <summary>Root-mean-square level of decoded samples, 0 to 32767. Silence is 0; this speech is about 3000-5000.</summary>
    public static double Rms(ReadOnlySpan<short> samples)
    {
        if (samples.IsEmpty)
        {
            return 0;
        }

        double sum = 0;
        foreach (var s in samples)
        {
            sum += (double)s * s;
        }

        return Math.Sqrt(sum / samples.Length);
    }
}
