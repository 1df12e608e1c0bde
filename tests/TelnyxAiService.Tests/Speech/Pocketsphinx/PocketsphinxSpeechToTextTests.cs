using Microsoft.Extensions.Logging.Abstractions;
using TelnyxAiService.Audio;
using TelnyxAiService.Providers;
using TelnyxAiService.Speech;
using TelnyxAiService.Speech.Pocketsphinx;
using TelnyxAiService.Voice.Flite;

namespace TelnyxAiService.Tests.Speech.Pocketsphinx;

public sealed class PocketsphinxSpeechToTextTests
{
    private static readonly string[] Sentences =
    [
        "i would like to book an appointment for tomorrow",
        "yes that works for me",
        "can you call me back this afternoon",
        "i need to cancel my reservation",
        "what time do you open on monday",
    ];

    [Fact]
    public async Task Transcribe_FiveFliteSentencesWithPauses_FiveFinalsWithMostWordsRight()
    {
        var audio = new List<byte>(Silence(0.5));
        foreach (var sentence in Sentences)
        {
            audio.AddRange(await SpeakAsync(sentence));
            audio.AddRange(Silence(1.0));
        }

        var events = await TranscribeAsync([.. audio]);

        // Each utterance: SpeechStarted, interims, one final (end of turn), UtteranceEnded.
        var finals = new List<string>();
        var expectStart = true;
        string? final = null;
        foreach (var speechEvent in events)
        {
            switch (speechEvent)
            {
                case SpeechStarted:
                    Assert.True(expectStart, "SpeechStarted inside an utterance");
                    expectStart = false;
                    final = null;
                    break;
                case TranscriptUpdate { IsFinal: false } interim:
                    Assert.False(expectStart, "interim outside an utterance");
                    Assert.Null(final);
                    Assert.NotEmpty(interim.Text);
                    break;
                case TranscriptUpdate { IsFinal: true, SpeechFinal: true } update:
                    Assert.False(expectStart, "final outside an utterance");
                    final = update.Text;
                    break;
                case UtteranceEnded:
                    Assert.False(expectStart, "UtteranceEnded outside an utterance");
                    Assert.NotNull(final);
                    finals.Add(final);
                    expectStart = true;
                    break;
                default:
                    Assert.Fail($"unexpected {speechEvent}");
                    break;
            }
        }

        Assert.True(expectStart, "the last utterance did not end");
        Assert.Equal(Sentences.Length, finals.Count);
        Assert.Contains(events, e => e is TranscriptUpdate { IsFinal: false });
        Assert.All(finals, f => Assert.Equal(f.ToLowerInvariant(), f));
        Assert.All(finals, f => Assert.DoesNotContain("<", f, StringComparison.Ordinal));
        var reference = Sentences.SelectMany(Words).ToArray();
        var errors = Sentences.Zip(finals, (said, heard) => WordErrors(Words(said), Words(heard))).Sum();
        var accuracy = 1.0 - ((double)errors / reference.Length);
        Assert.True(accuracy >= 0.8, $"word accuracy {accuracy:P0}: {string.Join(" | ", finals)}");
    }

    [Fact]
    public async Task Transcribe_WithJsgfGrammar_EverySentenceExact()
    {
        var grammar = Path.Combine(AppContext.BaseDirectory, "Fixtures", "pocketsphinx", "clinic.gram");
        var audio = new List<byte>(Silence(0.5));
        foreach (var sentence in Sentences)
        {
            audio.AddRange(await SpeakAsync(sentence));
            audio.AddRange(Silence(1.0));
        }

        var events = await TranscribeAsync([.. audio], PocketsphinxOptions.Default with { Grammar = grammar });

        Assert.Equal(Sentences, events.OfType<TranscriptUpdate>().Where(e => e.IsFinal).Select(e => e.Text));
    }

    [Fact]
    public async Task Transcribe_AudioEndsMidSpeech_StillEndsTheUtterance()
    {
        var audio = Silence(0.5).Concat(await SpeakAsync("yes that works for me")).ToArray();

        var events = await TranscribeAsync(audio);

        Assert.IsType<SpeechStarted>(events[0]);
        Assert.IsType<UtteranceEnded>(events[^1]);
        var final = Assert.Single(events.OfType<TranscriptUpdate>(), e => e.IsFinal);
        Assert.Contains("works", final.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transcribe_MuLawFormat_ThrowsNotRetryable()
    {
        var stt = new PocketsphinxSpeechToText(PocketsphinxOptions.Default, NullLogger<PocketsphinxSpeechToText>.Instance);

        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var _ in stt.TranscribeAsync(AudioFormat.Pcmu8k, Frames(new byte[1600], AudioFormat.Pcmu8k), TestContext.Current.CancellationToken))
            {
            }
        });

        Assert.False(error.Retryable);
        Assert.Contains("PCMU/8000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transcribe_FrameInAnotherFormat_ThrowsNamingIt()
    {
        var stt = new PocketsphinxSpeechToText(PocketsphinxOptions.Default, NullLogger<PocketsphinxSpeechToText>.Instance);

        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var _ in stt.TranscribeAsync(AudioFormat.L16At16k, Frames(new byte[1600], AudioFormat.Pcma8k), TestContext.Current.CancellationToken))
            {
            }
        });

        Assert.Contains("PCMA/8000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transcribe_ModelDirectoryMissing_ThrowsNamingThePackage()
    {
        var stt = new PocketsphinxSpeechToText(new PocketsphinxOptions("/nonexistent/model", null), NullLogger<PocketsphinxSpeechToText>.Instance);

        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var _ in stt.TranscribeAsync(AudioFormat.L16At16k, Frames(Silence(0.1), AudioFormat.L16At16k), TestContext.Current.CancellationToken))
            {
            }
        });

        Assert.Contains("pocketsphinx-en-us", error.Message, StringComparison.Ordinal);
    }

    private static async Task<List<SpeechEvent>> TranscribeAsync(byte[] audio, PocketsphinxOptions? options = null)
    {
        var stt = new PocketsphinxSpeechToText(options ?? PocketsphinxOptions.Default, NullLogger<PocketsphinxSpeechToText>.Instance);
        var events = new List<SpeechEvent>();
        await foreach (var speechEvent in stt.TranscribeAsync(AudioFormat.L16At16k, Frames(audio, AudioFormat.L16At16k), TestContext.Current.CancellationToken))
        {
            events.Add(speechEvent);
        }

        return events;
    }

    private static async Task<byte[]> SpeakAsync(string text)
    {
        var tts = new FliteTextToSpeech(FliteOptions.Default, NullLogger<FliteTextToSpeech>.Instance);
        var audio = new List<byte>();
        await foreach (var chunk in tts.SynthesizeAsync(text, AudioFormat.L16At16k, TestContext.Current.CancellationToken))
        {
            audio.AddRange(chunk.ToArray());
        }

        return [.. audio];
    }

    /// <summary>A quiet room: low-level noise rather than digital zeros.</summary>
    private static byte[] Silence(double seconds)
    {
        var random = new Random(7);
        var samples = (int)(16000 * seconds);
        var pcm = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var sample = (short)random.Next(-8, 9);
            pcm[2 * i] = (byte)sample;
            pcm[(2 * i) + 1] = (byte)(sample >> 8);
        }

        return pcm;
    }

    private static async IAsyncEnumerable<AudioFrame> Frames(byte[] audio, AudioFormat format)
    {
        for (var offset = 0; offset < audio.Length; offset += format.FrameBytes)
        {
            yield return new AudioFrame(format, audio.AsMemory(offset, Math.Min(format.FrameBytes, audio.Length - offset)));
            if (offset % (format.FrameBytes * 50) == 0)
            {
                await Task.Yield();
            }
        }
    }

    private static string[] Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Word-level edit distance (substitutions, insertions, deletions).</summary>
    private static int WordErrors(string[] said, string[] heard)
    {
        var previous = Enumerable.Range(0, heard.Length + 1).ToArray();
        for (var i = 1; i <= said.Length; i++)
        {
            var current = new int[heard.Length + 1];
            current[0] = i;
            for (var j = 1; j <= heard.Length; j++)
            {
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + (said[i - 1] == heard[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[heard.Length];
    }
}
