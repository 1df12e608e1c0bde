using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using TelnyxAiService.Audio;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Speech.Pocketsphinx;

/// <summary>
/// Offline speech-to-text with pocketsphinx, in process. Takes L16 16 kHz audio (the only rate of Debian's en-us
/// model). Its voice activity detector splits utterances: speech start → <see cref="SpeechStarted"/>; while speaking,
/// an interim <see cref="TranscriptUpdate"/> about every 300 ms of audio when the words changed; at the end of speech
/// (0.5 s of silence) a final one with <see cref="TranscriptUpdate.SpeechFinal"/> and then <see cref="UtteranceEnded"/>.
/// </summary>
internal sealed partial class PocketsphinxSpeechToText(PocketsphinxOptions options, ILogger<PocketsphinxSpeechToText> logger) : ISpeechToText
{
    private const int InterimEverySamples = 16000 * 300 / 1000;

    public async IAsyncEnumerable<SpeechEvent> TranscribeAsync(
        AudioFormat format,
        IAsyncEnumerable<AudioFrame> callerAudio,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (format != AudioFormat.L16At16k)
        {
            throw new ProviderException("pocketsphinx", $"needs {AudioFormat.L16At16k} audio, got {format}", retryable: false);
        }

        var started = Stopwatch.GetTimestamp();
        using var decoder = await Task.Run(() => PocketsphinxDecoder.Create(options), cancellationToken);
        LogDecoderReady(logger, Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var audio = Channel.CreateBounded<AudioFrame>(new BoundedChannelOptions(100) { SingleReader = true, SingleWriter = true });
        var events = Channel.CreateBounded<SpeechEvent>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
        var pump = PumpAsync(callerAudio, audio.Writer, stop.Token);
        var decoding = Task.Run(() => DecodeAsync(decoder, audio.Reader, events.Writer, stop.Token), CancellationToken.None);
        try
        {
            await foreach (var speechEvent in events.Reader.ReadAllAsync(cancellationToken))
            {
                yield return speechEvent;
            }
        }
        finally
        {
            await stop.CancelAsync();
            // Neither task throws: failures travel through the channels.
            await Task.WhenAll(pump, decoding);
        }
    }

    /// <summary>Moves caller audio into the decoder's queue (2 s deep), so the caller's audio path waits only if decoding falls that far behind.</summary>
    private static async Task PumpAsync(IAsyncEnumerable<AudioFrame> callerAudio, ChannelWriter<AudioFrame> audio, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var frame in callerAudio.WithCancellation(cancellationToken))
            {
                if (frame.Format != AudioFormat.L16At16k)
                {
                    throw new ProviderException("pocketsphinx", $"needs {AudioFormat.L16At16k} audio, got a {frame.Format} frame", retryable: false);
                }

                await audio.WriteAsync(frame, cancellationToken);
            }

            audio.TryComplete();
        }
        catch (Exception e)
        {
            audio.TryComplete(e);
        }
    }

    private async Task DecodeAsync(PocketsphinxDecoder decoder, ChannelReader<AudioFrame> audio, ChannelWriter<SpeechEvent> events, CancellationToken cancellationToken)
    {
        try
        {
            var inSpeech = false;
            var samplesSinceInterim = 0;
            var interim = "";
            var utterances = 0;
            await foreach (var frame in audio.ReadAllAsync(cancellationToken))
            {
                var samples = Feed(decoder, frame.Payload);
                if (decoder.InSpeech && !inSpeech)
                {
                    inSpeech = true;
                    samplesSinceInterim = 0;
                    interim = "";
                    await events.WriteAsync(new SpeechStarted(), cancellationToken);
                }
                else if (inSpeech && !decoder.InSpeech)
                {
                    inSpeech = false;
                    utterances++;
                    await EndUtteranceAsync(decoder, events, cancellationToken);
                }
                else if (inSpeech && (samplesSinceInterim += samples) >= InterimEverySamples)
                {
                    samplesSinceInterim = 0;
                    var words = decoder.Hypothesis();
                    if (words.Length > 0 && words != interim)
                    {
                        interim = words;
                        await events.WriteAsync(new TranscriptUpdate(words, IsFinal: false, SpeechFinal: false), cancellationToken);
                    }
                }
            }

            if (inSpeech)
            {
                utterances++;
                await EndUtteranceAsync(decoder, events, cancellationToken);
            }

            LogAudioEnded(logger, utterances);
            events.TryComplete();
        }
        catch (Exception e)
        {
            events.TryComplete(e);
        }
    }

    private static async ValueTask EndUtteranceAsync(PocketsphinxDecoder decoder, ChannelWriter<SpeechEvent> events, CancellationToken cancellationToken)
    {
        var words = decoder.EndUtterance();
        if (words.Length > 0)
        {
            await events.WriteAsync(new TranscriptUpdate(words, IsFinal: true, SpeechFinal: true), cancellationToken);
        }

        await events.WriteAsync(new UtteranceEnded(), cancellationToken);
    }

    /// <summary>Decodes little-endian 16-bit samples; returns how many there were.</summary>
    private static int Feed(PocketsphinxDecoder decoder, ReadOnlyMemory<byte> payload)
    {
        if (payload.Length % 2 == 1)
        {
            throw new ProviderException("pocketsphinx", $"an L16 frame must hold whole 16-bit samples, got {payload.Length} bytes", retryable: false);
        }

        var samples = MemoryMarshal.Cast<byte, short>(payload.Span);
        decoder.Process(samples);
        return samples.Length;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "pocketsphinx decoder ready in {ElapsedMs:F0} ms")]
    private static partial void LogDecoderReady(ILogger logger, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "pocketsphinx audio ended after {Utterances} utterances")]
    private static partial void LogAudioEnded(ILogger logger, int utterances);
}
