using System.Threading.Channels;
using TelnyxAiService.Audio;

namespace TelnyxAiService.Conversation;

/// <summary>
/// The call's live audio, seen from the conversation: the caller's audio in, the agent's audio out (paced in real time
/// by the implementation), and what came back from the far end (marks played, digits, the end of the stream).
/// </summary>
public interface ICallAudio
{
    AudioFormat Format { get; }

    ChannelReader<AudioFrame> CallerAudio { get; }

    ChannelReader<CallAudioSignal> Signals { get; }

    /// <summary>Queues agent audio in <see cref="Format"/>; waits while the queue is full, which throttles text-to-speech.</summary>
    ValueTask SendAudioAsync(ReadOnlyMemory<byte> audio, CancellationToken cancellationToken);

    /// <summary>Queues a mark after the audio queued so far; <see cref="MarkPlayed"/> comes back once it has played.</summary>
    ValueTask SendMarkAsync(string name, CancellationToken cancellationToken);

    /// <summary>Stops sending agent audio at the next frame, keeping the queue.</summary>
    void Pause();

    /// <summary>Carries on sending where <see cref="Pause"/> stopped.</summary>
    void Resume();

    /// <summary>Drops every queued frame and tells the far end to drop what it has buffered.</summary>
    Task ClearAsync(CancellationToken cancellationToken);
}

public abstract record CallAudioSignal;

public sealed record MarkPlayed(string Name) : CallAudioSignal;

public sealed record DigitReceived(string Digit) : CallAudioSignal;

/// <summary>The first agent frame after a silence went out on the wire.</summary>
public sealed record AgentAudioStarted(DateTimeOffset At) : CallAudioSignal;

/// <summary>The far end ended the stream (Telnyx <c>stop</c>).</summary>
public sealed record StreamStopped : CallAudioSignal;
