using System.Buffers.Binary;

namespace TelnyxAiService.Recordings;

/// <summary>The 44-byte RIFF header of a 16-bit stereo PCM WAV file (Audio/WavFile covers mono).</summary>
internal static class StereoWav
{
    public const int HeaderBytes = 44;

    public static void WriteHeader(Span<byte> header, int sampleRate, long frames)
    {
        const int Channels = 2;
        const int BlockAlign = Channels * 2;
        var dataBytes = (uint)(frames * BlockAlign);
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 36 + dataBytes);
        "WAVE"u8.CopyTo(header[8..]);
        "fmt "u8.CopyTo(header[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], Channels);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], (uint)(sampleRate * BlockAlign));
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], BlockAlign);
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], 16);
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], dataBytes);
    }
}
