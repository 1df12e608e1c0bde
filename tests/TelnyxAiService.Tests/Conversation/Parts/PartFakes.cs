using System.Runtime.CompilerServices;
using System.Threading.Channels;
using TelnyxAiService.Audio;
using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;
using TelnyxAiService.Speech;
using TelnyxAiService.Telephony;
using TelnyxAiService.Tests.TestHost;
using TelnyxAiService.Voice;

namespace TelnyxAiService.Tests.Conversation.Parts;

/// <summary>The call audio as the parts see it: what they asked of it, in order.</summary>
internal sealed class RecordingAudio : ICallAudio
{
    private readonly Channel<AudioFrame> _caller = Channel.CreateUnbounded<AudioFrame>();
    private readonly Channel<CallAudioSignal> _signals = Channel.CreateUnbounded<CallAudioSignal>();

    public List<string> Log { get; } = [];

    public AudioFormat Format => AudioFormat.Pcmu8k;

    public ChannelReader<AudioFrame> CallerAudio => _caller.Reader;

    public ChannelReader<CallAudioSignal> Signals => _signals.Reader;

    public ValueTask SendAudioAsync(ReadOnlyMemory<byte> audio, CancellationToken cancellationToken)
    {
        Add("audio");
        return ValueTask.CompletedTask;
    }

    public ValueTask SendMarkAsync(string name, CancellationToken cancellationToken)
    {
        Add($"mark {name}");
        return ValueTask.CompletedTask;
    }

    public void Pause() => Add("pause");

    public void Resume() => Add("resume");

    public Task ClearAsync(CancellationToken cancellationToken)
    {
        Add("clear");
        return Task.CompletedTask;
    }

    public string[] Snapshot()
    {
        lock (Log)
        {
            return [.. Log];
        }
    }

    private void Add(string entry)
    {
        lock (Log)
        {
            Log.Add(entry);
        }
    }
}

/// <summary>Says every sentence as one chunk of audio at once.</summary>
internal sealed class InstantVoice : ITextToSpeech
{
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> SynthesizeAsync(string text, AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        yield return new byte[format.FrameBytes];
    }
}

/// <summary>Answers every request with the same text, then whatever else it was given (tools).</summary>
internal sealed class ScriptedAgent(string text, params AgentOutput[] then) : IAgent
{
    public async IAsyncEnumerable<AgentOutput> ReplyAsync(AgentRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        yield return new TextDelta(text);
        foreach (var output in then)
        {
            yield return output;
        }
    }
}

internal sealed class SilentEars : ISpeechToText
{
    public async IAsyncEnumerable<SpeechEvent> TranscribeAsync(AudioFormat format, IAsyncEnumerable<AudioFrame> callerAudio, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var _ in callerAudio.WithCancellation(cancellationToken))
        {
        }

        yield break;
    }
}

internal static class Parts
{
    public static CallSession Session(TimeProvider time)
    {
        var session = new CallSession("call-1", "+34600111222", new CallBrief("Ana", "", "en", ""), "Hello there.", useMediaStream: true, time.GetUtcNow()) { Time = time };
        session.SetCallControlId("cc-1");
        return session;
    }

    public static ConversationServices Services(TimeProvider time, IAgent agent, ICallControl callControl, string? transferNumber = null) => new(
        new SilentEars(),
        new InstantVoice(),
        agent,
        callControl,
        new ConversationOptions("en", "Be brief.", transferNumber, TimeSpan.FromSeconds(15), TimeSpan.FromMinutes(15), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(600), TimeSpan.FromMilliseconds(700)),
        new CallStats(TestTelemetry.Instance),
        time,
        Microsoft.Extensions.Logging.Abstractions.NullLogger<StreamConversation>.Instance);
}
