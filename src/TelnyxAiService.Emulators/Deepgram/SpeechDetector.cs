using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.Deepgram;

/// <summary>The emulator's voice activity detector: a 20 ms frame is speech when its RMS level reaches a threshold.</summary>
public static class SpeechDetector
{
    /// <summary>Far above silence and line noise (under 300), far below <see cref="SyntheticSpeech"/> (about 2500 at its quietest).</summary>
    public const double DefaultThreshold = 1000;

    public static bool IsSpeech(ReadOnlySpan<short> frame, double threshold = DefaultThreshold) => SyntheticSpeech.Rms(frame) >= threshold;
}
