using System.Buffers;
using System.Buffers.Binary;
using TelnyxAiService.Audio;

namespace TelnyxAiService.Recordings;

/// <summary>
/// Records one call's two sides as they cross the media stream: caller audio as it arrives, agent audio as it goes on
/// the wire. Each side is written by a single loop (receive or send), so appending takes no lock: it copies the frame
/// into lazily allocated chunks, at most <c>maxDuration</c> of audio per side. A frame is placed at its wall-clock
/// offset from the start of the recording when it comes after a gap (so the silence between turns is kept), and
/// straight after the previous frame otherwise (so jitter neither overlaps nor chops the audio). A caller frame is
/// taken to end when it arrives, an agent frame to start when it is sent. Call <see cref="WriteWavAsync"/> once both
/// loops have ended.
/// </summary>
public sealed class CallRecorder
{
    /// <summary>A frame that comes later than this after the end of its side's audio starts at its own offset.</summary>
    public static readonly TimeSpan GapTolerance = TimeSpan.FromMilliseconds(100);

    private const int ChunkSamples = 16_384;

    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly Track _caller;
    private readonly Track _agent;

    public CallRecorder(AudioFormat format, TimeSpan maxDuration, TimeProvider time)
    {
        Format = format;
        _time = time;
        _started = time.GetTimestamp();
        var maxSamples = (long)(maxDuration.TotalSeconds * format.SampleRate);
        var gapSamples = (long)(GapTolerance.TotalSeconds * format.SampleRate);
        _caller = new Track(format, maxSamples, gapSamples);
        _agent = new Track(format, maxSamples, gapSamples);
    }

    /// <summary>The call's format; frames in any other format are not recorded.</summary>
    public AudioFormat Format { get; }

    /// <summary>The length of the recording: the longer of the two sides.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds((double)SampleCount / Format.SampleRate);

    /// <summary>Whether audio was dropped because a side reached the maximum duration.</summary>
    public bool Truncated => _caller.Truncated || _agent.Truncated;

    /// <summary>Bytes of the WAV file <see cref="WriteWavAsync"/> writes.</summary>
    public long WavBytes => StereoWav.HeaderBytes + (SampleCount * 4);

    private long SampleCount => Math.Max(_caller.Length, _agent.Length);

    /// <summary>A frame of caller audio that has just arrived (receive loop).</summary>
    public void RecordCaller(AudioFrame frame)
    {
        if (frame.Format == Format)
        {
            _caller.Append(frame.Payload.Span, Now() - (frame.Payload.Length / Format.BytesPerSample));
        }
    }

    /// <summary>A frame of agent audio that is being sent (send loop).</summary>
    public void RecordAgent(AudioFrame frame)
    {
        if (frame.Format == Format)
        {
            _agent.Append(frame.Payload.Span, Now());
        }
    }

    /// <summary>A 16-bit stereo WAV at the call's sample rate: caller on the left, agent on the right.</summary>
    public async Task WriteWavAsync(Stream stream, CancellationToken cancellationToken)
    {
        var total = SampleCount;
        var header = new byte[StereoWav.HeaderBytes];
        StereoWav.WriteHeader(header, Format.SampleRate, total);
        await stream.WriteAsync(header, cancellationToken);

        var left = new short[ChunkSamples];
        var right = new short[ChunkSamples];
        var block = ArrayPool<byte>.Shared.Rent(ChunkSamples * 4);
        try
        {
            for (long start = 0; start < total; start += ChunkSamples)
            {
                var count = (int)Math.Min(ChunkSamples, total - start);
                var chunk = (int)(start / ChunkSamples);
                _caller.Decode(chunk, left.AsSpan(0, count));
                _agent.Decode(chunk, right.AsSpan(0, count));
                for (var i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteInt16LittleEndian(block.AsSpan(4 * i), left[i]);
                    BinaryPrimitives.WriteInt16LittleEndian(block.AsSpan((4 * i) + 2), right[i]);
                }

                await stream.WriteAsync(block.AsMemory(0, count * 4), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    private long Now() => (long)(_time.GetElapsedTime(_started).TotalSeconds * Format.SampleRate);

    /// <summary>One side: encoded samples (1 byte each for G.711) in fixed-size chunks, allocated on first write, silent until written.</summary>
    private sealed class Track(AudioFormat format, long maxSamples, long gapSamples)
    {
        private readonly byte[]?[] _chunks = new byte[(maxSamples + ChunkSamples - 1) / ChunkSamples][];

        // The codec's silence, which new chunks start as, and what it decodes to (A-law has no zero: +8).
        private readonly byte _silenceByte = format.Encoding switch
        {
            AudioEncoding.Pcmu => 0xFF,
            AudioEncoding.Pcma => 0xD5,
            _ => 0x00,
        };

        private readonly short _silence = format.Encoding == AudioEncoding.Pcma ? G711.ALawToLinear(0xD5) : (short)0;
        private long _length;

        /// <summary>Samples up to the end of the last frame; written by the recording loop only.</summary>
        public long Length => Volatile.Read(ref _length);

        public bool Truncated { get; private set; }

        public void Append(ReadOnlySpan<byte> payload, long at)
        {
            var position = _length;
            if (at > position + gapSamples)
            {
                position = Math.Min(at, maxSamples);
            }

            var bytesPerSample = format.BytesPerSample;
            var samples = payload.Length / bytesPerSample;
            if (position + samples > maxSamples)
            {
                Truncated = true;
                samples = (int)Math.Max(0, maxSamples - position);
            }

            var end = position + samples;
            while (position < end)
            {
                var chunk = _chunks[position / ChunkSamples] ??= NewChunk();
                var offset = (int)(position % ChunkSamples);
                var take = (int)Math.Min(ChunkSamples - offset, end - position);
                payload[..(take * bytesPerSample)].CopyTo(chunk.AsSpan(offset * bytesPerSample));
                payload = payload[(take * bytesPerSample)..];
                position += take;
            }

            if (end > _length)
            {
                Volatile.Write(ref _length, end);
            }
        }

        /// <summary>Linear samples of chunk <paramref name="index"/>; silence where nothing was recorded.</summary>
        public void Decode(int index, Span<short> samples)
        {
            if (index >= _chunks.Length || _chunks[index] is not { } chunk)
            {
                samples.Fill(_silence);
                return;
            }

            AudioConverter.Decode(chunk.AsSpan(0, samples.Length * format.BytesPerSample), format.Encoding, samples);
        }

        private byte[] NewChunk()
        {
            var chunk = new byte[ChunkSamples * format.BytesPerSample];
            chunk.AsSpan().Fill(_silenceByte);
            return chunk;
        }
    }
}
