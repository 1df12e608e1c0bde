using TelnyxAiService.Llm;

namespace TelnyxAiService.Conversation;

/// <summary>
/// The agent's replies on a media stream, one at a time: starts a reply (speculatively or not), commits it to a turn
/// and opens its gate once the caller has been quiet for the hold time, cuts or discards it, and writes into the
/// history what the caller actually heard.
/// </summary>
/// <param name="open">Called when a committed reply's hold has passed (the loop opens it if nothing changed meanwhile).</param>
/// <param name="queued">Called from the speaker once a reply's every sentence is queued.</param>
/// <param name="unanswered">Called with the caller's words of a reply nobody heard: they go into the next turn.</param>
internal sealed partial class ReplyRunner(
    CallSession session,
    TurnTaker caller,
    ICallAudio audio,
    ReplySpeaker speaker,
    TimeSpan turnHold,
    CallStats stats,
    TimeProvider time,
    ILogger logger,
    Action<Reply> open,
    Action<Reply> queued,
    Action<string> unanswered) : IDisposable
{
    private readonly Alarms _gate = new(time);
    private readonly List<Task> _discarded = [];
    private int _nextId;

    /// <summary>The reply in flight, if any.</summary>
    public Reply? Current { get; private set; }

    /// <summary>Starts a reply; one that is not speculative answers the turn at once (see <see cref="Commit"/>).</summary>
    /// <param name="decidedAt">When the caller's turn was judged over, for the latency breakdown.</param>
    public Reply Start(string? callerText, string? fixedText, bool speculative, DateTimeOffset? decidedAt = null)
    {
        _gate.Cancel();
        var reply = new Reply(++_nextId, callerText, fixedText, speculative, session.Ending);
        Current = reply;
        reply.Start(ct => speaker.SpeakAsync(reply, () => queued(reply), ct));
        if (!speculative)
        {
            if (decidedAt is { } at)
            {
                reply.Decided(at);
            }

            Commit(reply);
        }

        return reply;
    }

    /// <summary>The caller's words changed: a speculative reply that guessed other words is dropped.</summary>
    public void WordsChanged(string words)
    {
        if (Current is { Speculative: true } speculative && !TurnText.SameWords(speculative.CallerText!, words))
        {
            Discard(speculative);
        }
    }

    /// <summary>The turn ended on these words: a speculative reply that guessed them answers it; false when there is none.</summary>
    public bool TryPromote(string words, DateTimeOffset decidedAt)
    {
        if (Current is not { Speculative: true } speculative || !TurnText.SameWords(speculative.CallerText!, words))
        {
            return false;
        }

        speculative.Promote();
        speculative.Decided(decidedAt);
        Commit(speculative);
        return true;
    }

    /// <summary>After a barge-in that did not cut: a reply still held back waits for a new hold.</summary>
    public void Recommit()
    {
        if (Current is { Speculative: false, IsOpen: false } reply)
        {
            Commit(reply);
        }
    }

    /// <summary>The first agent frame after a silence went out: that is the turn's voice-to-voice latency.</summary>
    public void AgentAudioStarted(DateTimeOffset at)
    {
        if (Current is { } playing && playing.IsOpen && playing.FirstFrame(at) && playing.CallerText is not null)
        {
            var timings = playing.Timings();
            stats.TurnMeasured(session, timings, at);
            LogTurn(session.CallId, playing.Id, timings);
        }
    }

    /// <summary>A mark came back: the current reply whose sentence was heard, if it is one of its marks.</summary>
    public Reply? MarkPlayed(string mark)
    {
        if (Reply.TryParseMark(mark, out var replyId, out var sentence) && Current is { } current && current.Id == replyId)
        {
            current.MarkHeard(sentence);
            return current;
        }

        return null;
    }

    /// <summary>The reply was heard to the end.</summary>
    public void Heard(Reply reply)
    {
        Finish(reply, interrupted: false);
        reply.Dispose();
    }

    /// <summary>
    /// Stops the reply, drops its queued audio and keeps only what the caller heard. A reply still held back (the caller
    /// resumed within the hold) never sent a frame, so there is nothing for Telnyx to clear.
    /// </summary>
    public async Task CutAsync(Reply reply)
    {
        if (reply.IsOpen)
        {
            await reply.StopAsync();
            await audio.ClearAsync(session.Ending);
        }
        else
        {
            Discard(reply);
        }

        Finish(reply, interrupted: true);
        LogBargeIn(session.CallId, reply.Id);
    }

    /// <summary>Stops the reply in flight and waits for every reply to wind down.</summary>
    public async Task StopAsync()
    {
        if (Current is { } reply)
        {
            await reply.StopAsync();
        }

        await Task.WhenAll(_discarded);
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>
    /// The reply answers this turn: it may be heard once the caller has been quiet for the hold time. While our detector
    /// still hears the caller (its end comes ~300 ms after the last word), the hold runs from now and the latency origin
    /// is corrected when the end arrives.
    /// </summary>
    private void Commit(Reply reply)
    {
        var now = time.GetUtcNow();
        reply.SetOrigin(caller.VoiceActive ? now : caller.LastVoiceAt ?? now, provisional: caller.VoiceActive);
        reply.Decided(now);
        _gate.After(reply.OpenAt(now, turnHold) - now, () => open(reply));
    }

    /// <summary>
    /// Drops a reply that was never let through its gate, so it cannot have sent audio: the next reply need not wait
    /// for it to wind down (it is awaited when the conversation ends).
    /// </summary>
    private void Discard(Reply reply)
    {
        if (Current == reply)
        {
            Current = null;
        }

        _discarded.RemoveAll(run => run.IsCompleted);
        _discarded.Add(reply.Discard());
    }

    /// <summary>Writes what was heard into the history. A reply nobody heard leaves the caller's words unanswered.</summary>
    private void Finish(Reply reply, bool interrupted)
    {
        if (Current == reply)
        {
            Current = null;
        }

        var heard = reply.HeardText(all: !interrupted);
        if (heard.Length > 0 || reply.SpokenByTelephony)
        {
            if (reply.CallerText is not null)
            {
                session.AddToHistory(new ChatMessage(Speaker.Caller, reply.CallerText));
            }

            var timings = reply.CallerText is not null && reply.FirstFrameAt is not null ? reply.Timings() : null;
            session.AddToHistory(new ChatMessage(Speaker.Agent, heard.Length > 0 ? heard : reply.HeardText(all: true), interrupted), timings);
        }
        else if (reply.CallerText is not null && !reply.Speculative)
        {
            unanswered(reply.CallerText);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId} reply {Reply}: {Latency}")]
    private partial void LogTurn(string callId, int reply, TurnTimings latency);

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId}: the caller interrupted reply {Reply}")]
    private partial void LogBargeIn(string callId, int reply);
}
