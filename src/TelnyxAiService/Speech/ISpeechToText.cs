using TelnyxAiService.Audio;

namespace TelnyxAiService.Speech;

/// <summary>
/// Speech-to-text for one call: caller audio streams in, speech events stream out. Implementations own their
/// reconnects; the stream ends when the audio ends or the token is cancelled.
/// </summary>
public interface ISpeechToText
{
    IAsyncEnumerable<SpeechEvent> TranscribeAsync(AudioFormat format, IAsyncEnumerable<AudioFrame> callerAudio, CancellationToken cancellationToken);
}

public abstract record SpeechEvent;

/// <summary>The recogniser heard the caller start speaking.</summary>
public sealed record SpeechStarted : SpeechEvent;

/// <summary>
/// Words for the current segment. Interim results (<see cref="IsFinal"/> false) restate the whole segment and may
/// revise it; a final result fixes the segment; <see cref="SpeechFinal"/> marks the recogniser's end of turn.
/// </summary>
public sealed record TranscriptUpdate(string Text, bool IsFinal, bool SpeechFinal) : SpeechEvent;

/// <summary>The recogniser saw a gap in the words long enough to end the utterance (Deepgram UtteranceEnd).</summary>
public sealed record UtteranceEnded : SpeechEvent;
