using System.Diagnostics;
using System.Runtime.CompilerServices;
using TelnyxAiService.Audio;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Voice.Flite;

/// <summary>
/// Offline text-to-speech: English with flite (16 kHz voices), other languages with espeak-ng resampled to 16 kHz by
/// sox. Yields L16 16 kHz audio only. The text is passed to the engines as a process argument, never through a shell.
/// </summary>
internal sealed partial class FliteTextToSpeech(FliteOptions options, ILogger<FliteTextToSpeech> logger) : ITextToSpeech
{
    private const string Provider = "flite";

    /// <summary>100 ms of L16 16 kHz audio.</summary>
    private const int ChunkBytes = 3200;

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> SynthesizeAsync(string text, AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (format != AudioFormat.L16At16k)
        {
            throw new ProviderException(Provider, $"makes {AudioFormat.L16At16k} audio only, {format} was asked for", retryable: false);
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            yield break;
        }

        var started = Stopwatch.GetTimestamp();
        var chunks = options.IsEnglish ? FliteAsync(text, cancellationToken) : EspeakAsync(text, cancellationToken);
        var bytes = 0;
        await foreach (var chunk in chunks)
        {
            bytes += chunk.Length;
            yield return chunk;
        }

        LogSynthesized(logger, options.IsEnglish ? "flite" : "espeak-ng", AudioFormat.L16At16k.DurationOf(bytes).TotalMilliseconds, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private async IAsyncEnumerable<ReadOnlyMemory<byte>> FliteAsync(string text, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var path = Path.Combine(Path.GetTempPath(), $"flite-{Guid.NewGuid():N}.wav");
        try
        {
            using (var flite = EngineProcess.Start("flite", "flite", ["-voice", options.Voice, "-t", text, "-o", path], pipeInput: false))
            {
                await flite.Output.CopyToAsync(Stream.Null, cancellationToken);
                await flite.WaitAsync(cancellationToken);
            }

            var wav = WavReader.Read(await File.ReadAllBytesAsync(path, cancellationToken));
            if (wav is not { Channels: 1, SampleRate: 16000, BitsPerSample: 16 })
            {
                var got = wav is null ? "not a PCM WAV" : $"{wav.Channels} channel(s), {wav.SampleRate} Hz, {wav.BitsPerSample}-bit";
                throw new ProviderException(Provider, $"voice '{options.Voice}' must make 16 kHz 16-bit mono audio, got {got}", retryable: false);
            }

            for (var offset = 0; offset < wav.Data.Length; offset += ChunkBytes)
            {
                yield return wav.Data.Slice(offset, Math.Min(ChunkBytes, wav.Data.Length - offset));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>espeak-ng's 22.05 kHz WAV on its stdout → sox → raw L16 16 kHz, streamed as sox makes it.</summary>
    private async IAsyncEnumerable<ReadOnlyMemory<byte>> EspeakAsync(string text, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var espeak = EngineProcess.Start("espeak-ng", "espeak-ng", ["-v", options.Language, "--stdout", "--", text], pipeInput: false);
        using var sox = EngineProcess.Start("sox", "sox", ["-t", "wav", "-", "-t", "raw", "-r", "16000", "-e", "signed-integer", "-b", "16", "-c", "1", "-L", "-"], pipeInput: true);
        var copy = CopyAsync(espeak.Output, sox.Input, cancellationToken);
        while (true)
        {
            var buffer = new byte[ChunkBytes];
            var read = await sox.Output.ReadAtLeastAsync(buffer, ChunkBytes, throwOnEndOfStream: false, cancellationToken);
            if (read == 0)
            {
                break;
            }

            yield return buffer.AsMemory(0, read);
        }

        await copy;
        await espeak.WaitAsync(cancellationToken);
        await sox.WaitAsync(cancellationToken);
    }

    private static async Task CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        try
        {
            await from.CopyToAsync(to, cancellationToken);
        }
        catch (IOException)
        {
            // sox closed its input early; its exit code says why.
        }
        finally
        {
            to.Close();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Engine} made {AudioMs:F0} ms of audio in {ElapsedMs:F0} ms")]
    private static partial void LogSynthesized(ILogger logger, string engine, double audioMs, double elapsedMs);
}
