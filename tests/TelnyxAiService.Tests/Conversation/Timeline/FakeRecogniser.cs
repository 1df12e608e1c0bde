using System.Runtime.CompilerServices;
using TelnyxAiService.Audio;
using TelnyxAiService.Providers;
using TelnyxAiService.Speech;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>The recogniser: says what the script tells it to, when it tells it to, whatever the audio; or breaks.</summary>
internal sealed class FakeRecogniser(TimelineLog log) : ISpeechToText
{
    private readonly InlineChannel<SpeechEvent> _events = new();

    public void Say(SpeechEvent speechEvent)
    {
        log.Add($"recogniser {speechEvent}");
        _events.Write(speechEvent);
    }

    /// <summary>The recogniser is gone for good (its reconnects, inside the real client, all failed).</summary>
    public void Lose() => _events.Write(new Lost());

    public async IAsyncEnumerable<SpeechEvent> TranscribeAsync(AudioFormat format, IAsyncEnumerable<AudioFrame> callerAudio, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var speechEvent in _events.ReadAllAsync(cancellationToken))
        {
            if (speechEvent is Lost)
            {
                throw new ProviderException("deepgram", "connection lost", retryable: false);
            }

            yield return speechEvent;
        }
    }

    private sealed record Lost : SpeechEvent;
}
