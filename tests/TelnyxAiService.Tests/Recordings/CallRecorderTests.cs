using System.Buffers.Binary;
using TelnyxAiService.Audio;
using TelnyxAiService.Recordings;
using TelnyxAiService.Tests.Audio;

namespace TelnyxAiService.Tests.Recordings;

public sealed class CallRecorderTests
{
    private static readonly TimeSpan Frame = AudioFormat.FrameDuration;

    public static TheoryData<AudioEncoding, int> Formats => new()
    {
        { AudioEncoding.Pcmu, 8000 },
        { AudioEncoding.Pcma, 8000 },
        { AudioEncoding.L16, 16000 },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task WriteWav_CallerThenAgent_EachSideAtItsWallClockOffset(AudioEncoding encoding, int sampleRate)
    {
        var format = new AudioFormat(encoding, sampleRate);
        var clock = new ManualClock();
        var recorder = new CallRecorder(format, TimeSpan.FromMinutes(1), clock);
        var caller = AudioTestSignals.Encode(AudioTestSignals.Tone(440, sampleRate, TimeSpan.FromSeconds(1)), encoding);
        var agent = AudioTestSignals.Encode(AudioTestSignals.Tone(700, sampleRate, TimeSpan.FromSeconds(0.5)), encoding);

        // The caller speaks from 0 to 1 s: each 20 ms frame arrives as it ends.
        foreach (var frame in Frames(format, caller))
        {
            clock.Advance(Frame);
            recorder.RecordCaller(frame);
        }

        // The agent answers from 1.5 s to 2 s: each frame goes on the wire as it starts.
        clock.Advance(TimeSpan.FromSeconds(0.5));
        foreach (var frame in Frames(format, agent))
        {
            recorder.RecordAgent(frame);
            clock.Advance(Frame);
        }

        var wav = await WriteAsync(recorder);

        var frames = 2 * sampleRate;
        Assert.Equal(ExpectedHeader(sampleRate, frames), wav[..44]);
        Assert.Equal(44 + (frames * 4), wav.Length);
        Assert.Equal(wav.Length, recorder.WavBytes);
        Assert.Equal(TimeSpan.FromSeconds(2), recorder.Duration);
        var (left, right) = Channels(wav);
        var second = sampleRate;
        var silence = Silence(encoding);
        Assert.Equal(AudioTestSignals.Decode(caller, encoding), left[..second]);
        Assert.All(left[second..], s => Assert.Equal(silence, s));
        Assert.All(right[..(second * 3 / 2)], s => Assert.Equal(silence, s));
        Assert.Equal(AudioTestSignals.Decode(agent, encoding), right[(second * 3 / 2)..]);
        Assert.InRange(AudioTestSignals.Frequency(left[..second], sampleRate), 430, 450);
        Assert.InRange(AudioTestSignals.Frequency(right[(second * 3 / 2)..], sampleRate), 690, 710);
    }

    [Fact]
    public async Task WriteWav_FramesLateWithinTolerance_FollowOnWithoutGap()
    {
        var clock = new ManualClock();
        var recorder = new CallRecorder(AudioFormat.Pcmu8k, TimeSpan.FromMinutes(1), clock);
        var agent = AudioTestSignals.Encode(AudioTestSignals.Tone(500, 8000, TimeSpan.FromSeconds(0.4)), AudioEncoding.Pcmu);
        var frames = Frames(AudioFormat.Pcmu8k, agent).ToList();

        // Ten frames sent in a burst, a stall shorter than the tolerance, then the rest.
        foreach (var frame in frames[..10])
        {
            recorder.RecordAgent(frame);
        }

        clock.Advance(Frame * 10 + (CallRecorder.GapTolerance / 2));
        foreach (var frame in frames[10..])
        {
            recorder.RecordAgent(frame);
            clock.Advance(Frame);
        }

        var (_, right) = Channels(await WriteAsync(recorder));

        Assert.Equal(AudioTestSignals.Decode(agent, AudioEncoding.Pcmu), right);
    }

    [Fact]
    public async Task Record_BeyondMaxDuration_IsCutAtTheCap()
    {
        var clock = new ManualClock();
        var recorder = new CallRecorder(AudioFormat.Pcmu8k, TimeSpan.FromSeconds(1), clock);
        var caller = AudioTestSignals.Encode(AudioTestSignals.Tone(440, 8000, TimeSpan.FromSeconds(1.5)), AudioEncoding.Pcmu);

        foreach (var frame in Frames(AudioFormat.Pcmu8k, caller))
        {
            clock.Advance(Frame);
            recorder.RecordCaller(frame);
        }

        clock.Advance(TimeSpan.FromSeconds(5));
        recorder.RecordAgent(new AudioFrame(AudioFormat.Pcmu8k, caller.AsMemory(0, 160)));
        var wav = await WriteAsync(recorder);

        Assert.True(recorder.Truncated);
        Assert.Equal(TimeSpan.FromSeconds(1), recorder.Duration);
        Assert.Equal(ExpectedHeader(8000, 8000), wav[..44]);
        var (left, right) = Channels(wav);
        Assert.Equal(AudioTestSignals.Decode(caller.AsSpan(0, 8000), AudioEncoding.Pcmu), left);
        Assert.All(right, s => Assert.Equal(0, s));
    }

    [Fact]
    public async Task Record_FrameInAnotherFormat_IsIgnored()
    {
        var clock = new ManualClock();
        var recorder = new CallRecorder(AudioFormat.Pcmu8k, TimeSpan.FromMinutes(1), clock);

        recorder.RecordCaller(new AudioFrame(AudioFormat.L16At16k, new byte[640]));
        var wav = await WriteAsync(recorder);

        Assert.Equal(TimeSpan.Zero, recorder.Duration);
        Assert.Equal(ExpectedHeader(8000, 0), wav);
    }

    /// <summary>Linear 0 after a trip through the codec (A-law has no zero: +8).</summary>
    private static short Silence(AudioEncoding encoding) => AudioTestSignals.Decode(AudioTestSignals.Encode([0], encoding), encoding)[0];

    private static IEnumerable<AudioFrame> Frames(AudioFormat format, byte[] audio)
    {
        for (var offset = 0; offset < audio.Length; offset += format.FrameBytes)
        {
            yield return new AudioFrame(format, audio.AsMemory(offset, Math.Min(format.FrameBytes, audio.Length - offset)));
        }
    }

    private static async Task<byte[]> WriteAsync(CallRecorder recorder)
    {
        using var stream = new MemoryStream();
        await recorder.WriteWavAsync(stream, TestContext.Current.CancellationToken);
        return stream.ToArray();
    }

    /// <summary>The canonical 44-byte header of a 16-bit stereo PCM WAV, spelled out field by field.</summary>
    private static byte[] ExpectedHeader(int sampleRate, int frames)
    {
        var data = frames * 4;
        return
        [
            .. "RIFF"u8, .. Le32(36 + data), .. "WAVE"u8,
            .. "fmt "u8, .. Le32(16), 1, 0, 2, 0, .. Le32(sampleRate), .. Le32(sampleRate * 4), 4, 0, 16, 0,
            .. "data"u8, .. Le32(data),
        ];
    }

    private static byte[] Le32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static (short[] Left, short[] Right) Channels(byte[] wav)
    {
        var frames = (wav.Length - 44) / 4;
        var left = new short[frames];
        var right = new short[frames];
        for (var i = 0; i < frames; i++)
        {
            left[i] = BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(44 + (4 * i)));
            right[i] = BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(46 + (4 * i)));
        }

        return (left, right);
    }
}

/// <summary>A clock that moves only when told to.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddTicks(GetTimestamp());

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
