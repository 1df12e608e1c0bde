using System.Runtime.CompilerServices;
using TelnyxAiService.Audio;
using TelnyxAiService.Providers;
using TelnyxAiService.Voice;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>
/// Text-to-speech at once, <see cref="WordMs"/> of audio a word; every byte of a sentence's audio is its number in the
/// log, so what played can be told apart sentence by sentence. Fails, before any audio, for the texts the test says.
/// </summary>
internal sealed class FakeVoice(TimelineLog log, Func<string, bool> fails) : ITextToSpeech
{
    public const int WordMs = 200;

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> SynthesizeAsync(string text, AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var speech = log.NewSpeech(text, words * WordMs / 20);
        await Task.Yield();
        if (fails(text))
        {
            throw new ProviderException("elevenlabs", "HTTP 500", retryable: true);
        }

        for (var i = 0; i < words; i++)
        {
            var audio = new byte[format.FrameBytes * WordMs / 20];
            audio.AsSpan().Fill(speech);
            yield return audio;
        }
    }
}
