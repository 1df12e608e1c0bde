using System.Buffers;

namespace TelnyxAiService.Audio;

public enum VadEventKind
{
    SpeechStart,
    SpeechEnd,
}

/// <summary>A speech transition; <see cref="At"/> is audio time since the first sample pushed.</summary>
public readonly record struct VadEvent(VadEventKind Kind, TimeSpan At);

/// <summary>
/// Energy voice-activity detector for caller audio (barge-in). Works on 20 ms analysis frames whatever the size of the
/// frames pushed. A frame is speech when its level is well above an adaptive noise floor and above an absolute
/// minimum; speech starts after 3 speech frames in a row (60 ms) and ends after 300 ms without speech.
/// One instance per stream.
/// </summary>
internal sealed class VoiceActivityDetector
{
    private const double AbsoluteMinimumDbfs = -45;
    private const double StartMarginDb = 12;
    private const double ContinueMarginDb = 8;
    private const double FloorRiseInSilence = 0.05;
    private const double FloorRiseInSpeech = 0.002;
    private const int OnsetFrames = 3;
    private const int OffsetFrames = 15;

    private readonly short[] _frame;
    private int _filled;
    private long _framesSeen;
    private double? _noiseFloorDbfs;
    private int _speechRun;
    private int _silenceRun;

    public VoiceActivityDetector(int sampleRate = 8000)
    {
        SampleRate = sampleRate;
        _frame = new short[sampleRate / 50];
    }

    public int SampleRate { get; }

    public bool InSpeech { get; private set; }

    /// <summary>
    /// Analyses the frame and returns the transition it completes, if any. A long frame that holds more than one
    /// transition reports the last; <see cref="InSpeech"/> is always current.
    /// </summary>
    public VadEvent? Push(AudioFrame frame)
    {
        if (frame.Format.SampleRate != SampleRate)
        {
            throw new ArgumentException($"This detector runs at {SampleRate} Hz, got {frame.Format}.", nameof(frame));
        }

        var samples = ArrayPool<short>.Shared.Rent(frame.Payload.Length);
        try
        {
            var count = AudioConverter.Decode(frame.Payload.Span, frame.Format.Encoding, samples);
            VadEvent? result = null;
            var remaining = samples.AsSpan(0, count);
            while (!remaining.IsEmpty)
            {
                var take = Math.Min(remaining.Length, _frame.Length - _filled);
                remaining[..take].CopyTo(_frame.AsSpan(_filled));
                remaining = remaining[take..];
                _filled += take;
                if (_filled == _frame.Length)
                {
                    _filled = 0;
                    result = Analyse() ?? result;
                }
            }

            return result;
        }
        finally
        {
            ArrayPool<short>.Shared.Return(samples);
        }
    }

    private VadEvent? Analyse()
    {
        var level = LevelDbfs(_frame);
        var floor = _noiseFloorDbfs ?? level;
        var margin = InSpeech ? ContinueMarginDb : StartMarginDb;
        var speech = level > AbsoluteMinimumDbfs && level > floor + margin;

        // The floor follows quiet frames down at once and creeps up, slowly while someone speaks.
        _noiseFloorDbfs = level < floor ? level : floor + ((level - floor) * (speech ? FloorRiseInSpeech : FloorRiseInSilence));
        _framesSeen++;

        if (speech)
        {
            _speechRun++;
            _silenceRun = 0;
            if (!InSpeech && _speechRun >= OnsetFrames)
            {
                InSpeech = true;
                return new VadEvent(VadEventKind.SpeechStart, FrameStart(_framesSeen - OnsetFrames));
            }
        }
        else
        {
            _silenceRun++;
            _speechRun = 0;
            if (InSpeech && _silenceRun >= OffsetFrames)
            {
                InSpeech = false;
                return new VadEvent(VadEventKind.SpeechEnd, FrameStart(_framesSeen - OffsetFrames));
            }
        }

        return null;
    }

    private static TimeSpan FrameStart(long index) => AudioFormat.FrameDuration * index;

    private static double LevelDbfs(ReadOnlySpan<short> samples)
    {
        double sum = 0;
        foreach (var s in samples)
        {
            sum += (double)s * s;
        }

        var rms = Math.Sqrt(sum / samples.Length);
        return 20 * Math.Log10(Math.Max(rms, 1) / 32768);
    }
}
