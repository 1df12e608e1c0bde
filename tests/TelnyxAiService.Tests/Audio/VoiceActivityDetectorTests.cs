using TelnyxAiService.Audio;

namespace TelnyxAiService.Tests.Audio;

public sealed class VoiceActivityDetectorTests
{
    private static readonly TimeSpan Frame = TimeSpan.FromMilliseconds(20);

    [Fact]
    public void Push_DigitalSilence_GivesNoEvents()
    {
        var events = Run(new short[8000 * 3], Frame);

        Assert.Empty(events);
    }

    [Theory]
    [InlineData(60)]
    [InlineData(1000)]
    public void Push_SteadyLineNoise_GivesNoEvents(int amplitude)
    {
        var events = Run(Noise(TimeSpan.FromSeconds(3), amplitude, seed: 7), Frame);

        Assert.Empty(events);
    }

    [Fact]
    public void Push_NoiseWithClicks_GivesNoEvents()
    {
        var signal = Noise(TimeSpan.FromSeconds(2), 60, seed: 3);
        for (var click = 4000; click < signal.Length; click += 4000)
        {
            for (var i = 0; i < 40; i++)
            {
                signal[click + i] = (short)(i % 2 == 0 ? 20000 : -20000);
            }
        }

        Assert.Empty(Run(signal, Frame));
    }

    [Theory]
    [InlineData(20)]
    [InlineData(10)]
    [InlineData(100)]
    public void Push_SpeechAfterNoise_StartsWithin100MsAndEndsAfterIt(int frameMilliseconds)
    {
        var onset = TimeSpan.FromSeconds(1);
        var stop = TimeSpan.FromSeconds(2.5);
        var signal = Noise(TimeSpan.FromSeconds(3.5), 60, seed: 11);
        var speech = SpeechLike(stop - onset);
        for (var i = 0; i < speech.Length; i++)
        {
            signal[(int)(onset.TotalSeconds * 8000) + i] += speech[i];
        }

        var events = Run(signal, TimeSpan.FromMilliseconds(frameMilliseconds));

        Assert.Equal([VadEventKind.SpeechStart, VadEventKind.SpeechEnd], events.Select(e => e.Event.Kind));
        var (start, startReported) = events[0];
        Assert.InRange(start.At, onset - Frame, onset + (2 * Frame));
        Assert.InRange(startReported, onset, onset + TimeSpan.FromMilliseconds(100) + TimeSpan.FromMilliseconds(frameMilliseconds));
        var (end, endReported) = events[1];
        Assert.InRange(end.At, stop - Frame, stop + (2 * Frame));
        Assert.InRange(endReported, stop + TimeSpan.FromMilliseconds(280), stop + TimeSpan.FromMilliseconds(400) + TimeSpan.FromMilliseconds(frameMilliseconds));
    }

    [Fact]
    public void InSpeech_DuringAndAfterSpeech_FollowsTheSignal()
    {
        var vad = new VoiceActivityDetector();
        var speech = AudioTestSignals.Encode(SpeechLike(TimeSpan.FromMilliseconds(200)), AudioEncoding.Pcmu);
        var silence = AudioTestSignals.Encode(new short[8000], AudioEncoding.Pcmu);

        vad.Push(new AudioFrame(AudioFormat.Pcmu8k, silence));
        Assert.False(vad.InSpeech);
        Assert.Equal(VadEventKind.SpeechStart, vad.Push(new AudioFrame(AudioFormat.Pcmu8k, speech))?.Kind);
        Assert.True(vad.InSpeech);
        Assert.Equal(VadEventKind.SpeechEnd, vad.Push(new AudioFrame(AudioFormat.Pcmu8k, silence))?.Kind);
        Assert.False(vad.InSpeech);
    }

    /// <summary>Pushes the signal as PCMU frames; returns each event with the audio time at which Push returned it.</summary>
    private static List<(VadEvent Event, TimeSpan ReportedAt)> Run(short[] signal, TimeSpan frame)
    {
        var vad = new VoiceActivityDetector();
        var pcmu = AudioTestSignals.Encode(signal, AudioEncoding.Pcmu);
        var frameBytes = (int)(8000 * frame.TotalSeconds);
        var events = new List<(VadEvent, TimeSpan)>();
        for (var offset = 0; offset < pcmu.Length; offset += frameBytes)
        {
            var payload = pcmu.AsMemory(offset, Math.Min(frameBytes, pcmu.Length - offset));
            if (vad.Push(new AudioFrame(AudioFormat.Pcmu8k, payload)) is { } e)
            {
                events.Add((e, AudioFormat.Pcmu8k.DurationOf(offset + payload.Length)));
            }
        }

        return events;
    }

    private static short[] Noise(TimeSpan duration, int amplitude, int seed)
    {
        var random = new Random(seed);
        var samples = new short[(int)(8000 * duration.TotalSeconds)];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (short)random.Next(-amplitude, amplitude + 1);
        }

        return samples;
    }

    /// <summary>A 150 Hz voiced buzz with two harmonics under a 4 Hz syllable envelope that dips to 20%.</summary>
    private static short[] SpeechLike(TimeSpan duration)
    {
        var samples = new short[(int)(8000 * duration.TotalSeconds)];
        for (var i = 0; i < samples.Length; i++)
        {
            var t = i / 8000.0;
            var envelope = 0.2 + (0.8 * Math.Abs(Math.Sin(Math.PI * 4 * t + (Math.PI / 2))));
            var voiced = Math.Sin(2 * Math.PI * 150 * t) + (0.5 * Math.Sin(2 * Math.PI * 300 * t)) + (0.25 * Math.Sin(2 * Math.PI * 450 * t));
            samples[i] = (short)(4000 * envelope * voiced);
        }

        return samples;
    }
}
