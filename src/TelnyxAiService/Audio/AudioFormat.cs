namespace TelnyxAiService.Audio;

/// <summary>The codecs a Telnyx media stream can carry that this service speaks.</summary>
public enum AudioEncoding
{
    /// <summary>G.711 µ-law, 1 byte a sample.</summary>
    Pcmu,

    /// <summary>G.711 A-law, 1 byte a sample.</summary>
    Pcma,

    /// <summary>16-bit linear PCM, 2 bytes a sample. Byte order: little-endian inside this service.</summary>
    L16,
}

/// <summary>An audio format: codec and sample rate, always mono.</summary>
public readonly record struct AudioFormat(AudioEncoding Encoding, int SampleRate)
{
    public static readonly TimeSpan FrameDuration = TimeSpan.FromMilliseconds(20);

    public static AudioFormat Pcmu8k { get; } = new(AudioEncoding.Pcmu, 8000);

    public static AudioFormat Pcma8k { get; } = new(AudioEncoding.Pcma, 8000);

    public static AudioFormat L16At16k { get; } = new(AudioEncoding.L16, 16000);

    public int BytesPerSample => Encoding == AudioEncoding.L16 ? 2 : 1;

    /// <summary>Bytes in one 20 ms frame (160 for PCMU 8 kHz, 640 for L16 16 kHz).</summary>
    public int FrameBytes => SampleRate / 50 * BytesPerSample;

    public TimeSpan DurationOf(int bytes) => TimeSpan.FromTicks(bytes * TimeSpan.TicksPerSecond / (SampleRate * BytesPerSample));

    /// <summary>The Telnyx spelling of the codec (case-sensitive on the wire).</summary>
    public string TelnyxCodec => Encoding switch
    {
        AudioEncoding.Pcmu => "PCMU",
        AudioEncoding.Pcma => "PCMA",
        _ => "L16",
    };

    public override string ToString() => $"{TelnyxCodec}/{SampleRate}";
}

/// <summary>A piece of audio in a known format.</summary>
public readonly record struct AudioFrame(AudioFormat Format, ReadOnlyMemory<byte> Payload)
{
    public TimeSpan Duration => Format.DurationOf(Payload.Length);
}
