using System.Text;

namespace TelnyxAiService.Conversation;

/// <summary>
/// The caller's side of the turn: the words heard so far (final segments, the latest interim, and words carried over
/// from a reply nobody heard), whether our voice detector hears the caller now, when the turn ends, and when its words
/// have been stable long enough to start a speculative reply on them.
/// </summary>
/// <param name="wake">Called with <see cref="Version"/> once the words may have become stable (see <see cref="Speculation"/>).</param>
internal sealed class TurnTaker(TimeSpan speculativeDelay, TimeProvider time, Action<int> wake) : IDisposable
{
    private readonly StringBuilder _segments = new();
    private readonly Alarms _stable = new(time);
    private string _interim = "";
    private string? _carried;
    private DateTimeOffset _lastTranscriptAt;

    /// <summary>The caller has said something this turn that has not been answered yet.</summary>
    public bool Open { get; private set; }

    /// <summary>Our detector hears the caller now.</summary>
    public bool VoiceActive { get; private set; }

    /// <summary>When our detector last heard the caller stop.</summary>
    public DateTimeOffset? LastVoiceAt { get; private set; }

    /// <summary>Changes whenever the words change or the turn ends, so a wake-up for older words is ignored.</summary>
    public int Version { get; private set; }

    /// <summary>Everything the caller said this turn.</summary>
    public string Text => TurnText.Join(_carried, TurnText.Join(_segments.ToString(), _interim));

    /// <summary>This turn's final segments followed by <paramref name="text"/>: the words said over the agent.</summary>
    public string SaidOver(string text) => TurnText.Join(_segments.ToString(), text);

    public void VoiceStarted() => VoiceActive = true;

    public void VoiceEnded(DateTimeOffset lastVoiceAt)
    {
        VoiceActive = false;
        LastVoiceAt = lastVoiceAt;
    }

    /// <summary>The recogniser's words: a final segment is kept, an interim one replaces the previous interim.</summary>
    public void Hear(string text, bool isFinal)
    {
        Open = true;
        _lastTranscriptAt = time.GetUtcNow();
        if (isFinal)
        {
            _segments.Append(' ').Append(text);
            _interim = "";
        }
        else
        {
            _interim = text;
        }

        Version++;
    }

    /// <summary>A backchannel said over the agent: once final, it is not part of the turn.</summary>
    public void ForgetInterim(bool isFinal)
    {
        if (isFinal)
        {
            _interim = "";
        }
    }

    /// <summary>A key press is a turn of its own, said now.</summary>
    public void Pressed(string digit)
    {
        Open = true;
        _segments.Append($" [pressed {digit}]");
        LastVoiceAt = time.GetUtcNow();
    }

    /// <summary>The caller's words of a reply nobody heard go into the next turn.</summary>
    public void Carry(string callerText)
    {
        _carried = TurnText.Join(callerText, _carried ?? "");
        Open = true;
    }

    /// <summary>Ends the turn; returns its words, empty when the caller said nothing (carried words then wait on).</summary>
    public string End()
    {
        var text = Text;
        Open = false;
        _segments.Clear();
        _interim = "";
        Version++;
        _stable.Cancel();
        if (text.Length > 0)
        {
            _carried = null;
        }

        return text;
    }

    /// <summary>
    /// Speculation: once our detector hears silence and the words (two or more) have not changed for the speculative
    /// delay, the reply may start on them while the recogniser is still deciding the turn has ended. Returns the words
    /// when that time has come; otherwise, when it may still come, <c>wake</c> is called then.
    /// </summary>
    public string? Speculation()
    {
        if (speculativeDelay <= TimeSpan.Zero || !Open || VoiceActive)
        {
            return null;
        }

        var text = Text;
        var stableFor = time.GetUtcNow() - _lastTranscriptAt;
        if (TurnText.Words(text).Count < 2)
        {
            return null;
        }

        if (stableFor >= speculativeDelay)
        {
            return text;
        }

        var version = Version;
        _stable.Cancel();
        _stable.After(speculativeDelay - stableFor, () => wake(version));
        return null;
    }

    public void Dispose() => _stable.Dispose();
}
