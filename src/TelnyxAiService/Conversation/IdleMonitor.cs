namespace TelnyxAiService.Conversation;

/// <summary>
/// Silence after the agent has finished: once the idle timeout passes with nobody speaking, the agent asks whether the
/// caller is still there; when it passes again without the caller saying anything, it says goodbye and hangs up.
/// </summary>
/// <param name="due">Called with the wait's number when the timeout has passed (see <see cref="IsCurrent"/>).</param>
internal sealed class IdleMonitor(TimeSpan timeout, Phrases phrases, TimeProvider time, Action<int> due) : IDisposable
{
    private readonly Alarms _alarm = new(time);
    private int _version;
    private bool _prompted;

    /// <summary>The agent finished speaking: start waiting.</summary>
    public void Wait()
    {
        var version = ++_version;
        _alarm.Cancel();
        _alarm.After(timeout, () => due(version));
    }

    /// <summary>Something happened (the caller made a sound, the agent started a reply): stop waiting.</summary>
    public void Reset()
    {
        _version++;
        _alarm.Cancel();
    }

    /// <summary>The caller said words: a later silence starts with the question again.</summary>
    public void CallerSpoke() => _prompted = false;

    public bool IsCurrent(int version) => version == _version;

    /// <summary>The wait ran out: what the agent says now, and whether the call ends after it.</summary>
    public (string Line, CallEndReason? EndsCall) Elapsed()
    {
        if (_prompted)
        {
            return (phrases.IdleGoodbye, CallEndReason.IdleTimeout);
        }

        _prompted = true;
        return (phrases.AreYouStillThere, null);
    }

    public void Dispose() => _alarm.Dispose();
}
