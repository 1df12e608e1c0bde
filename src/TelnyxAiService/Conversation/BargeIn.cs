namespace TelnyxAiService.Conversation;

/// <summary>
/// Barge-in: the caller makes a sound over the agent. The agent's audio pauses at once; the barge-in is then resolved
/// by words or by time. Words that are not a backchannel ("mm-hm", "ok") cut the reply; at each check (after the grace
/// period, and a moment after the caller falls silent so the recogniser can catch up) silence resumes the agent, and
/// speech that has gone on for <see cref="LongSpeech"/> cuts it even before the recogniser has words.
/// </summary>
/// <param name="check">Called with the barge-in's number when it is time to check it (see <see cref="Check"/>).</param>
internal sealed class BargeIn(ICallAudio audio, TimeSpan grace, TimeProvider time, Action<int> check) : IDisposable
{
    public static readonly TimeSpan LongSpeech = TimeSpan.FromMilliseconds(1200);
    public static readonly TimeSpan RecogniserCatchUp = TimeSpan.FromMilliseconds(450);
    public static readonly TimeSpan Recheck = TimeSpan.FromMilliseconds(200);

    private readonly Alarms _checks = new(time);
    private int _number;
    private DateTimeOffset _startedAt;

    public enum Verdict
    {
        /// <summary>Nothing to do yet (or the check is for a barge-in already resolved).</summary>
        Wait,

        /// <summary>It was noise or a backchannel: let the agent go on.</summary>
        Resume,

        /// <summary>The caller is taking the turn: cut the reply.</summary>
        Cut,
    }

    /// <summary>The agent is paused, waiting for the barge-in to be resolved.</summary>
    public bool Active { get; private set; }

    /// <summary>
    /// Words said over the agent: anything but a backchannel cuts the reply; a final backchannel ends a barge-in.
    /// </summary>
    public Verdict Hear(string words, bool isFinal) =>
        words.Length > 0 && !Backchannel.IsBackchannel(words) ? Verdict.Cut
        : isFinal && Active ? Verdict.Resume
        : Verdict.Wait;

    /// <summary>Pauses the agent, unless a barge-in is already under way.</summary>
    public void Start()
    {
        if (Active)
        {
            return;
        }

        audio.Pause();
        Active = true;
        _number++;
        _startedAt = time.GetUtcNow();
        Schedule(grace);
    }

    /// <summary>The caller fell silent: check again once the recogniser has had time to deliver their words.</summary>
    public void VoiceEnded()
    {
        if (Active)
        {
            Schedule(RecogniserCatchUp);
        }
    }

    /// <summary>A check came due for barge-in <paramref name="number"/>.</summary>
    /// <param name="canCut">There is a reply to cut.</param>
    public Verdict Check(int number, bool callerSpeaking, bool canCut)
    {
        if (!Active || number != _number)
        {
            return Verdict.Wait;
        }

        if (callerSpeaking && time.GetUtcNow() - _startedAt >= LongSpeech && canCut)
        {
            return Verdict.Cut;
        }

        if (callerSpeaking)
        {
            Schedule(Recheck);
            return Verdict.Wait;
        }

        return Verdict.Resume;
    }

    /// <summary>Ends the barge-in, if any, and lets the agent's audio flow again.</summary>
    public void Stop()
    {
        Active = false;
        _checks.Cancel();
        audio.Resume();
    }

    public void Dispose() => _checks.Dispose();

    private void Schedule(TimeSpan delay)
    {
        var number = _number;
        _checks.After(delay, () => check(number));
    }
}
