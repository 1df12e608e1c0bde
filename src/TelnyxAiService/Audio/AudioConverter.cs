using System.Buffers;
using System.Buffers.Binary;

namespace TelnyxAiService.Audio;

/// <summary>
/// Converts one stream of audio between two formats (PCMU 8 kHz, PCMA 8 kHz, L16 8 or 16 kHz): decode to linear,
/// resample 8 kHz ↔ 16 kHz, encode. Keeps the filter history and any half L16 sample between calls, so use one
/// instance per stream and feed it the chunks in order.
/// </summary>
internal sealed class AudioConverter
{
    // 31-tap windowed-sinc low-pass at 3.6 kHz for a 16 kHz signal, applied before keeping every second sample.
    private static readonly float[] LowPass = DesignLowPass(31, 3600.0 / 16000.0);

    private readonly float[] _history = new float[LowPass.Length - 1];
    private short _previous;
    private bool _oddPhase;
    private byte? _pendingByte;

    public AudioConverter(AudioFormat from, AudioFormat to)
    {
        Check(from);
        Check(to);
        From = from;
        To = to;
    }

    public AudioFormat From { get; }

    public AudioFormat To { get; }

    /// <summary>Converts a whole buffer with a fresh converter.</summary>
    public static byte[] Convert(ReadOnlySpan<byte> input, AudioFormat from, AudioFormat to) => new AudioConverter(from, to).Convert(input);

    /// <summary>The most bytes <see cref="Convert(ReadOnlySpan{byte}, Span{byte})"/> can write for <paramref name="inputBytes"/>.</summary>
    public int MaxOutputBytes(int inputBytes) => (int)(((long)MaxInputSamples(inputBytes) * To.SampleRate / From.SampleRate) + 1) * To.BytesPerSample;

    public byte[] Convert(ReadOnlySpan<byte> input)
    {
        var rented = ArrayPool<byte>.Shared.Rent(MaxOutputBytes(input.Length));
        try
        {
            return rented.AsSpan(0, Convert(input, rented)).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Converts the next chunk of the stream into <paramref name="output"/> and returns the bytes written.</summary>
    public int Convert(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var inputSamples = ArrayPool<short>.Shared.Rent(MaxInputSamples(input.Length));
        var outputSamples = ArrayPool<short>.Shared.Rent(MaxOutputBytes(input.Length) / To.BytesPerSample);
        try
        {
            var decoded = Decode(input, inputSamples);
            var resampled = Resample(inputSamples.AsSpan(0, decoded), outputSamples);
            return Encode(outputSamples.AsSpan(0, resampled), To.Encoding, output);
        }
        finally
        {
            ArrayPool<short>.Shared.Return(inputSamples);
            ArrayPool<short>.Shared.Return(outputSamples);
        }
    }

    /// <summary>Decodes G.711 or little-endian L16 bytes to linear samples; returns the sample count.</summary>
    public static int Decode(ReadOnlySpan<byte> input, AudioEncoding encoding, Span<short> samples)
    {
        switch (encoding)
        {
            case AudioEncoding.Pcmu:
                G711.DecodeMuLaw(input, samples);
                return input.Length;
            case AudioEncoding.Pcma:
                G711.DecodeALaw(input, samples);
                return input.Length;
            default:
                var count = input.Length / 2;
                for (var i = 0; i < count; i++)
                {
                    samples[i] = BinaryPrimitives.ReadInt16LittleEndian(input[(2 * i)..]);
                }

                return count;
        }
    }

    /// <summary>Encodes linear samples as G.711 or little-endian L16; returns the bytes written.</summary>
    public static int Encode(ReadOnlySpan<short> samples, AudioEncoding encoding, Span<byte> output)
    {
        switch (encoding)
        {
            case AudioEncoding.Pcmu:
                G711.EncodeMuLaw(samples, output);
                return samples.Length;
            case AudioEncoding.Pcma:
                G711.EncodeALaw(samples, output);
                return samples.Length;
            default:
                for (var i = 0; i < samples.Length; i++)
                {
                    BinaryPrimitives.WriteInt16LittleEndian(output[(2 * i)..], samples[i]);
                }

                return samples.Length * 2;
        }
    }

    private static void Check(AudioFormat format)
    {
        var supported = format.SampleRate switch
        {
            8000 => true,
            16000 => format.Encoding == AudioEncoding.L16,
            _ => false,
        };
        if (!supported)
        {
            throw new ArgumentException($"Cannot convert {format}: supported are PCMU/8000, PCMA/8000, L16/8000 and L16/16000.", nameof(format));
        }
    }

    private int MaxInputSamples(int inputBytes) => From.Encoding == AudioEncoding.L16 ? (inputBytes / 2) + 1 : inputBytes;

    private int Decode(ReadOnlySpan<byte> input, Span<short> samples)
    {
        if (From.Encoding != AudioEncoding.L16)
        {
            return Decode(input, From.Encoding, samples);
        }

        var count = 0;
        if (_pendingByte is { } low && !input.IsEmpty)
        {
            samples[count++] = (short)(low | (input[0] << 8));
            input = input[1..];
            _pendingByte = null;
        }

        count += Decode(input, AudioEncoding.L16, samples[count..]);
        if (input.Length % 2 == 1)
        {
            _pendingByte = input[^1];
        }

        return count;
    }

    private int Resample(ReadOnlySpan<short> input, Span<short> output)
    {
        if (From.SampleRate == To.SampleRate)
        {
            input.CopyTo(output);
            return input.Length;
        }

        return From.SampleRate < To.SampleRate ? Upsample(input, output) : Downsample(input, output);
    }

    // 8 kHz → 16 kHz: each input sample is preceded by the midpoint between it and the one before.
    private int Upsample(ReadOnlySpan<short> input, Span<short> output)
    {
        for (var i = 0; i < input.Length; i++)
        {
            output[2 * i] = (short)((_previous + input[i]) >> 1);
            output[(2 * i) + 1] = input[i];
            _previous = input[i];
        }

        return input.Length * 2;
    }

    // 16 kHz → 8 kHz: low-pass, then keep every second sample. The last taps-1 inputs carry over to the next call.
    private int Downsample(ReadOnlySpan<short> input, Span<short> output)
    {
        var taps = LowPass.Length;
        var window = ArrayPool<float>.Shared.Rent(_history.Length + input.Length);
        try
        {
            _history.CopyTo(window, 0);
            for (var i = 0; i < input.Length; i++)
            {
                window[_history.Length + i] = input[i];
            }

            var written = 0;
            for (var i = 0; i < input.Length; i++)
            {
                _oddPhase = !_oddPhase;
                if (!_oddPhase)
                {
                    continue;
                }

                var sum = 0f;
                var newest = _history.Length + i;
                for (var k = 0; k < taps; k++)
                {
                    sum += LowPass[k] * window[newest - k];
                }

                output[written++] = (short)Math.Clamp(MathF.Round(sum), short.MinValue, short.MaxValue);
            }

            window.AsSpan(input.Length, _history.Length).CopyTo(_history);
            return written;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(window);
        }
    }

    private static float[] DesignLowPass(int taps, double cutoff)
    {
        var h = new double[taps];
        var middle = (taps - 1) / 2.0;
        for (var n = 0; n < taps; n++)
        {
            var x = n - middle;
            var sinc = x == 0 ? 2 * cutoff : Math.Sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
            var hamming = 0.54 - (0.46 * Math.Cos(2 * Math.PI * n / (taps - 1)));
            h[n] = sinc * hamming;
        }

        var gain = h.Sum();
        return [.. h.Select(v => (float)(v / gain))];
    }
}
