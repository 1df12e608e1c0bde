using System.Diagnostics;
using System.Runtime.CompilerServices;
using TelnyxAiService.Audio;
using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Tests.Speech;

/// <summary>A caller's audio timeline, streamed in real time as 20 ms frames like a media stream delivers it.</summary>
internal static class PacedCallerAudio
{
    public abstract record Part;

    /// <summary>Synthetic speech whose length follows the text.</summary>
    public sealed record Line(string Text) : Part;

    /// <summary>Silent frames.</summary>
    public sealed record Silence(TimeSpan Duration) : Part;

    /// <summary>No frames at all for a while (the stream pauses).</summary>
    public sealed record Pause(TimeSpan Duration) : Part;

    public static Line Say(string text) => new(text);

    public static Silence Quiet(int milliseconds) => new(TimeSpan.FromMilliseconds(milliseconds));

    public static async IAsyncEnumerable<AudioFrame> PlayAsync(
        AudioFormat format,
        IReadOnlyList<Part> parts,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var due = TimeSpan.Zero;
        foreach (var part in parts)
        {
            if (part is Pause pause)
            {
                due += pause.Duration;
                continue;
            }

            var bytes = Bytes(format, part);
            for (var offset = 0; offset < bytes.Length; offset += format.FrameBytes)
            {
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken);
                }

                var payload = bytes.AsMemory(offset, Math.Min(format.FrameBytes, bytes.Length - offset));
                yield return new AudioFrame(format, payload);
                due += format.DurationOf(payload.Length);
            }
        }
    }

    public static long TotalBytes(AudioFormat format, IReadOnlyList<Part> parts) => parts.Sum(p => (long)Bytes(format, p).Length);

    private static byte[] Bytes(AudioFormat format, Part part)
    {
        var emulated = new EmulatedAudioFormat(format.TelnyxCodec, format.SampleRate);
        return part switch
        {
            Line line => SyntheticSpeech.For(line.Text, emulated),
            Silence silence => SyntheticSpeech.Silence(silence.Duration, emulated),
            _ => [],
        };
    }
}
