using TelnyxAiService.Audio;

namespace TelnyxAiService.Voice;

/// <summary>Text-to-speech: one sentence in, audio chunks (any size) in the requested format out, as they are made.</summary>
public interface ITextToSpeech
{
    IAsyncEnumerable<ReadOnlyMemory<byte>> SynthesizeAsync(string text, AudioFormat format, CancellationToken cancellationToken);
}
