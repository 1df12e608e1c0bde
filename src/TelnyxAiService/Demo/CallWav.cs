using System.Buffers.Binary;
using TelnyxAiService.Audio;
using TelnyxAiService.Emulators.Telnyx.Media;

namespace TelnyxAiService.Demo;

/// <summary>
/// Both sides of an emulated media-stream call as one stereo WAV (16-bit, 16 kHz): the caller on the left channel,
/// the agent on the right, each placed at the time it was sent or played.
/// </summary>
internal static class CallWav
{
    public const int SampleRate = 16000;

    /// <param name="callerAudio">Each caller line's audio (L16 16 kHz), in the order of <see cref="MediaCallRecording.CallerLines"/>.</param>
    public static byte[] Create(MediaCallRecording recording, IReadOnlyList<byte[]> callerAudio)
    {
        var format = new AudioFormat(
            recording.Format.Encoding switch
            {
                "PCMU" => AudioEncoding.Pcmu,
                "PCMA" => AudioEncoding.Pcma,
                _ => AudioEncoding.L16,
            },
            recording.Format.SampleRate);
        var frames = (int)(recording.Duration.TotalSeconds * SampleRate) + 1;
        var left = new short[frames];
        var right = new short[frames];
        foreach (var (line, audio) in recording.CallerLines.Zip(callerAudio))
        {
            Place(left, line.Start, audio);
        }

        foreach (var segment in recording.Heard)
        {
            Place(right, segment.Start, PersonaVoice.Transcode(segment.Audio, format, AudioFormat.L16At16k));
        }

        var data = new byte[frames * 4];
        for (var i = 0; i < frames; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(i * 4), left[i]);
            BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan((i * 4) + 2), right[i]);
        }

        return [.. Header(data.Length), .. data];
    }

    private static void Place(short[] channel, TimeSpan at, byte[] l16)
    {
        var start = (int)(at.TotalSeconds * SampleRate);
        for (var i = 0; i < l16.Length / 2 && start + i < channel.Length; i++)
        {
            channel[start + i] = BinaryPrimitives.ReadInt16LittleEndian(l16.AsSpan(i * 2));
        }
    }

    private static byte[] Header(int dataBytes)
    {
        const int Channels = 2;
        var header = new byte[44];
        var span = header.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 36 + dataBytes);
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], Channels);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], SampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], SampleRate * Channels * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], Channels * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], dataBytes);
        return header;
    }
}
