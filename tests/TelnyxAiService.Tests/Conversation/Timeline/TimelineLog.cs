using Microsoft.Extensions.Time.Testing;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>One thing that came out of the conversation, at a millisecond of the timeline.</summary>
public sealed record TimelineEvent(int Ms, string What)
{
    public override string ToString() => $"{Ms,6} {What}";
}

/// <summary>A stretch of one synthesised sentence that the caller heard without a break.</summary>
/// <param name="Whole">Every frame of the sentence was heard (in this stretch or before it).</param>
public sealed record HeardSpeech(string Text, int FromMs, int ToMs, bool Whole);

/// <summary>Everything the fakes saw and did, in timeline milliseconds; written on the timeline's thread.</summary>
internal sealed class TimelineLog(FakeTimeProvider time)
{
    private readonly DateTimeOffset _start = time.GetUtcNow();
    private readonly List<TimelineEvent> _events = [];
    private readonly List<(string Text, int Frames)> _speech = [];
    private readonly List<(int Ms, int Speech)> _played = [];

    public int Now => (int)(time.GetUtcNow() - _start).TotalMilliseconds;

    public IReadOnlyList<TimelineEvent> Events => _events;

    public void Add(string what) => _events.Add(new TimelineEvent(Now, what));

    /// <summary>A new sentence is being synthesised; its frames carry the returned byte.</summary>
    public byte NewSpeech(string text, int frames)
    {
        _speech.Add((text, frames));
        Add($"synthesise {text}");
        return checked((byte)_speech.Count);
    }

    public void Played(byte speech) => _played.Add((Now, speech - 1));

    /// <summary>The agent audio played, as runs of consecutive frames of one sentence.</summary>
    public IReadOnlyList<HeardSpeech> Heard()
    {
        var heard = new List<HeardSpeech>();
        var framesHeard = new int[_speech.Count];
        for (var i = 0; i < _played.Count;)
        {
            var (from, speech) = _played[i];
            var end = i;
            while (end + 1 < _played.Count && _played[end + 1].Speech == speech && _played[end + 1].Ms == _played[end].Ms + 20)
            {
                end++;
            }

            framesHeard[speech] += end - i + 1;
            heard.Add(new HeardSpeech(_speech[speech].Text, from, _played[end].Ms + 20, framesHeard[speech] == _speech[speech].Frames));
            i = end + 1;
        }

        return heard;
    }
}
