namespace TelnyxAiService.Conversation;

/// <summary>
/// The pending one-shot timers of one purpose (a turn's speculation, a barge-in's checks, a reply's gate): each is
/// disposed when it fires, and all of them at once when the purpose is superseded, so nothing piles up over a long call.
/// </summary>
internal sealed class Alarms(TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly HashSet<Pending> _pending = [];

    /// <summary>Runs <paramref name="fire"/> once <paramref name="delay"/> has passed (at once when it already has).</summary>
    public void After(TimeSpan delay, Action fire)
    {
        if (delay <= TimeSpan.Zero)
        {
            fire();
            return;
        }

        var pending = new Pending(fire);
        lock (_gate)
        {
            pending.Timer = time.CreateTimer(_ => Fire(pending), null, delay, Timeout.InfiniteTimeSpan);
            _pending.Add(pending);
        }
    }

    /// <summary>Forgets every pending alarm: none of them fires.</summary>
    public void Cancel()
    {
        lock (_gate)
        {
            foreach (var pending in _pending)
            {
                pending.Timer?.Dispose();
            }

            _pending.Clear();
        }
    }

    public void Dispose() => Cancel();

    private void Fire(Pending pending)
    {
        lock (_gate)
        {
            if (!_pending.Remove(pending))
            {
                return;
            }
        }

        pending.Timer?.Dispose();
        pending.Fire();
    }

    private sealed class Pending(Action fire)
    {
        public ITimer? Timer { get; set; }

        public void Fire() => fire();
    }
}
