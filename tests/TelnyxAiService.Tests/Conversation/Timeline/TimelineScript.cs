using TelnyxAiService.Conversation;
using TelnyxAiService.Speech;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>
/// What the caller (and the recogniser hearing them, and Telnyx) does, at given milliseconds from the start of the
/// stream. Times are multiples of the timeline's 20 ms tick.
/// </summary>
public sealed class TimelineScript
{
    private readonly List<(int From, int To)> _voice = [];
    private readonly List<(int Ms, Action<TimelineActors> Act)> _acts = [];

    /// <summary>The caller's voice, loud enough for our detector, from one millisecond to another.</summary>
    public TimelineScript Voice(int fromMs, int toMs)
    {
        OnTick(fromMs);
        OnTick(toMs);
        _voice.Add((fromMs, toMs));
        return this;
    }

    public TimelineScript Interim(int ms, string text) => Recognised(ms, new TranscriptUpdate(text, IsFinal: false, SpeechFinal: false));

    /// <summary>A final result for a segment, the turn not ended (the caller may go on).</summary>
    public TimelineScript Final(int ms, string text) => Recognised(ms, new TranscriptUpdate(text, IsFinal: true, SpeechFinal: false));

    /// <summary>A final result that is also the recogniser's end of turn (speech_final).</summary>
    public TimelineScript EndOfTurn(int ms, string text) => Recognised(ms, new TranscriptUpdate(text, IsFinal: true, SpeechFinal: true));

    public TimelineScript SpeechStarted(int ms) => Recognised(ms, new SpeechStarted());

    public TimelineScript UtteranceEnd(int ms) => Recognised(ms, new UtteranceEnded());

    /// <summary>
    /// The caller says a line: voice from <paramref name="fromMs"/> to <paramref name="toMs"/>, an interim with the
    /// first half of the words halfway, and the whole line as the end of turn 200 ms after the voice stops.
    /// </summary>
    public TimelineScript Says(int fromMs, int toMs, string text)
    {
        var words = text.Split(' ');
        var half = string.Join(' ', words.Take(Math.Max(1, words.Length / 2)));
        return Voice(fromMs, toMs).Interim(Tick(fromMs + ((toMs - fromMs) / 2)), half).EndOfTurn(toMs + 200, text);
    }

    public TimelineScript Digit(int ms, string digit) => At(ms, a => a.Audio.Signal(new DigitReceived(digit)));

    public TimelineScript TimeLimit(int ms) => At(ms, a => Assert.True(a.Conversation.Post(new StreamConversation.TimeLimit())));

    public TimelineScript RecogniserLost(int ms) => At(ms, a => a.Recogniser.Lose());

    /// <summary>Telnyx stops the stream (the caller hung up).</summary>
    public TimelineScript Stop(int ms) => At(ms, a => a.Audio.Signal(new StreamStopped()));

    internal bool VoiceAt(int ms) => _voice.Any(v => ms >= v.From && ms < v.To);

    internal IEnumerable<Action<TimelineActors>> At(int ms) => _acts.Where(a => a.Ms == ms).Select(a => a.Act);

    private TimelineScript Recognised(int ms, SpeechEvent speechEvent) => At(ms, a => a.Recogniser.Say(speechEvent));

    private TimelineScript At(int ms, Action<TimelineActors> act)
    {
        OnTick(ms);
        _acts.Add((ms, act));
        return this;
    }

    private static int Tick(int ms) => ms / Timeline.TickMs * Timeline.TickMs;

    private static void OnTick(int ms)
    {
        if (ms % Timeline.TickMs != 0)
        {
            throw new ArgumentException($"{ms} ms is not on the timeline's {Timeline.TickMs} ms tick.", nameof(ms));
        }
    }
}
