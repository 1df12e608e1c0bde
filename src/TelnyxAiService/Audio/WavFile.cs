using System.Buffers.Binary;

namespace TelnyxAiService.Audio;

/// <summary>Mono 16-bit PCM WAV files: a 44-byte RIFF header and little-endian samples.</summary>
internal static class WavFile
{
    public const int HeaderBytes = 44;

    /// <summary>A WAV file holding <paramref name="l16"/> (little-endian 16-bit samples) at <paramref name="sampleRate"/>.</summary>
    public static byte[] Create(ReadOnlySpan<byte> l16, int sampleRate)
    {
        var file = new byte[HeaderBytes + l16.Length];
        WriteHeader(file, l16.Length, sampleRate);
        l16.CopyTo(file.AsSpan(HeaderBytes));
        return file;
    }

    public static async Task WriteAsync(Stream stream, ReadOnlyMemory<byte> l16, int sampleRate, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderBytes];
        WriteHeader(header, l16.Length, sampleRate);
        await stream.WriteAsync(header, cancellationToken);
        await stream.WriteAsync(l16, cancellationToken);
    }

    /// <summary>Reads a mono 16-bit PCM WAV file; other chunks (LIST, fact) are skipped.</summary>
    /// <exception cref="InvalidDataException">The file is not a mono 16-bit PCM WAV.</exception>
    public static AudioFrame Read(ReadOnlyMemory<byte> file)
    {
        var span = file.Span;
        if (span.Length < 12 || !span[..4].SequenceEqual("RIFF"u8) || !span[8..12].SequenceEqual("WAVE"u8))
        {
            throw new InvalidDataException("Not a RIFF/WAVE file.");
        }

        int? sampleRate = null;
        var offset = 12;
        while (offset + 8 <= span.Length)
        {
            var id = span.Slice(offset, 4);
            var size = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(span[(offset + 4)..]), (uint)(span.Length - offset - 8));
            var body = span.Slice(offset + 8, size);
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || BinaryPrimitives.ReadUInt16LittleEndian(body) != 1 || BinaryPrimitives.ReadUInt16LittleEndian(body[2..]) != 1 || BinaryPrimitives.ReadUInt16LittleEndian(body[14..]) != 16)
                {
                    throw new InvalidDataException("Only mono 16-bit PCM WAV files are supported.");
                }

                sampleRate = (int)BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (sampleRate is null)
                {
                    throw new InvalidDataException("The data chunk comes before the fmt chunk.");
                }

                return new AudioFrame(new AudioFormat(AudioEncoding.L16, sampleRate.Value), file.Slice(offset + 8, size & ~1));
            }

            offset += 8 + size + (size & 1);
        }

        throw new InvalidDataException("The WAV file has no data chunk.");
    }

    private static void WriteHeader(Span<byte> header, int dataBytes, int sampleRate)
    {
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(36 + dataBytes));
        "WAVE"u8.CopyTo(header[8..]);
        "fmt "u8.CopyTo(header[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], (uint)(sampleRate * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], 16);
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], (uint)dataBytes);
    }
}
