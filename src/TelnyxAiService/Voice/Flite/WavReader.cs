using System.Buffers.Binary;

namespace TelnyxAiService.Voice.Flite;

/// <summary>Reads the PCM samples of a RIFF/WAVE file.</summary>
internal static class WavReader
{
    public sealed record WavAudio(int Channels, int SampleRate, int BitsPerSample, ReadOnlyMemory<byte> Data);

    /// <summary>The format and the data chunk, or null when this is not an uncompressed PCM WAV.</summary>
    public static WavAudio? Read(ReadOnlyMemory<byte> file)
    {
        var bytes = file.Span;
        if (bytes.Length < 12 || !bytes[..4].SequenceEqual("RIFF"u8) || !bytes[8..12].SequenceEqual("WAVE"u8))
        {
            return null;
        }

        (int Channels, int SampleRate, int Bits)? format = null;
        var offset = 12;
        while (offset + 8 <= bytes.Length)
        {
            var id = bytes.Slice(offset, 4);
            var size = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(offset + 4, 4)), (uint)(bytes.Length - offset - 8));
            var body = offset + 8;
            if (id.SequenceEqual("fmt "u8) && size >= 16)
            {
                if (BinaryPrimitives.ReadUInt16LittleEndian(bytes[body..]) != 1)
                {
                    return null;
                }

                format = (
                    BinaryPrimitives.ReadUInt16LittleEndian(bytes[(body + 2)..]),
                    BinaryPrimitives.ReadInt32LittleEndian(bytes[(body + 4)..]),
                    BinaryPrimitives.ReadUInt16LittleEndian(bytes[(body + 14)..]));
            }
            else if (id.SequenceEqual("data"u8) && format is { } f)
            {
                return new WavAudio(f.Channels, f.SampleRate, f.Bits, file.Slice(body, size));
            }

            offset = body + size + (size % 2);
        }

        return null;
    }
}
