using System.Text.Json;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.ElevenLabs;
using TelnyxAiService.Emulators.Telnyx.Media;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>What media-stream call tests read from the emulators' recordings.</summary>
internal static class StreamCalls
{
    /// <summary>20 ms frames of the synthetic speech of each piece, as the service sends them (each piece padded to whole frames).</summary>
    public static int FramesOf(params string[] pieces) =>
        pieces.Sum(p => (int)Math.Ceiling(SyntheticSpeech.DurationOf(p).TotalMilliseconds / 20));

    /// <summary>Agent audio heard from <paramref name="from"/> on, in 20 ms frames.</summary>
    public static int HeardFramesAfter(MediaCallRecording recording, TimeSpan from) =>
        (int)Math.Round(recording.Heard.Where(h => h.Start > from).Sum(h => h.AudioDuration.TotalMilliseconds) / 20);

    /// <summary>The text of every ElevenLabs request, in order (failed ones included).</summary>
    public static IReadOnlyList<string> SynthesisedTexts(ElevenLabsEmulator elevenLabs) =>
        [.. elevenLabs.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("text").GetString()!)];
}
