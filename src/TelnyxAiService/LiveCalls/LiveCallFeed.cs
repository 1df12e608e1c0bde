using System.Threading.Channels;

namespace TelnyxAiService.LiveCalls;

/// <summary>
/// The live calls of this instance as the console sees them: each call's state and transcript so far, and a stream of
/// what changes. Publishing never waits: every watcher has a bounded queue, and a watcher that falls behind is dropped
/// (its stream ends; the console reconnects and gets the calls afresh) rather than slowing a call down.
/// </summary>
internal sealed class LiveCallFeed
{
    /// <summary>The lines a new watcher gets of each call; older ones are on the call's page.</summary>
    public const int MaxLines = 200;

    private const int WatcherQueue = 1024;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, CallShown> _calls = new(StringComparer.Ordinal);
    private readonly List<Watcher> _watchers = [];

    /// <summary>Applies the event to the call's state and hands it to every watcher of that call.</summary>
    public void Publish(LiveEvent live)
    {
        lock (_gate)
        {
            var callId = Apply(live);
            for (var i = _watchers.Count - 1; i >= 0; i--)
            {
                var watcher = _watchers[i];
                if ((watcher.CallId is null || watcher.CallId == callId) && !watcher.Queue.Writer.TryWrite(live))
                {
                    watcher.Queue.Writer.TryComplete();
                    _watchers.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Starts watching: the live calls as they are now come first, then every change.</summary>
    /// <param name="callId">Watch one call only; null for all.</param>
    public ChannelReader<LiveEvent> Watch(string? callId, CancellationToken cancellationToken)
    {
        var watcher = new Watcher(callId, Channel.CreateBounded<LiveEvent>(WatcherQueue));
        lock (_gate)
        {
            foreach (var call in _calls.Values.Where(c => callId is null || c.CallId == callId).Take(WatcherQueue / 2))
            {
                watcher.Queue.Writer.TryWrite(call);
            }

            _watchers.Add(watcher);
        }

        cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                _watchers.Remove(watcher);
            }

            watcher.Queue.Writer.TryComplete();
        });
        return watcher.Queue.Reader;
    }

    /// <returns>The id of the call the event is about.</returns>
    private string? Apply(LiveEvent live)
    {
        switch (live)
        {
            case CallShown shown:
                _calls[shown.CallId] = shown;
                return shown.CallId;
            case StateChanged changed:
                Update(changed.CallId, c => c with { State = changed.State });
                return changed.CallId;
            case CallerWords words:
                Update(words.CallId, c => c with { CallerWords = words.Text });
                return words.CallId;
            case AgentWords words:
                Update(words.CallId, c => c with { AgentWords = words.Text });
                return words.CallId;
            case LineAdded added:
                Update(added.CallId, c => c with
                {
                    Lines = [.. c.Lines.Skip(c.Lines.Count + 1 - MaxLines), added.Line],
                    CallerWords = added.Line.Speaker == "caller" ? null : c.CallerWords,
                    AgentWords = added.Line.Speaker == "agent" ? null : c.AgentWords,
                });
                return added.CallId;
            case CallEnded ended:
                _calls.Remove(ended.CallId);
                return ended.CallId;
            default:
                return null;
        }
    }

    private void Update(string callId, Func<CallShown, CallShown> change)
    {
        if (_calls.TryGetValue(callId, out var call))
        {
            _calls[callId] = change(call);
        }
    }

    private sealed record Watcher(string? CallId, Channel<LiveEvent> Queue);
}
