namespace TelnyxAiService.Conversation;

/// <summary>
/// One agent reply in flight on a media stream: its text as it is spoken sentence by sentence, which sentences the
/// caller has heard (their marks came back), and the moments each stage first produced something. The speaker task and
/// the conversation loop both touch it, so its state changes only through these methods, under one lock.
/// </summary>
public sealed class Reply(int id, string? callerText, string? fixedText, bool speculative, CancellationToken callEnding) : IDisposable
{
    private readonly List<string> _sentences = [];
    private readonly HashSet<int> _heard = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cancellation = CancellationTokenSource.CreateLinkedTokenSource(callEnding);
    private Task _run = Task.CompletedTask;
    private bool _speculative = speculative;
    private bool _allQueued;
    private bool _spokenByTelephony;
    private CallEndReason? _endsCall;
    private DateTimeOffset _origin;
    private bool _originProvisional;
    private DateTimeOffset? _decidedAt;
    private DateTimeOffset? _firstTokenAt;
    private DateTimeOffset? _firstSentenceAt;
    private DateTimeOffset? _firstAudioAt;
    private DateTimeOffset? _firstFrameAt;

    public int Id { get; } = id;

    /// <summary>The caller's words this reply answers; null for the greeting and other fixed lines.</summary>
    public string? CallerText { get; } = callerText;

    /// <summary>A line to say as is, without the agent.</summary>
    public string? FixedText { get; } = fixedText;

    /// <summary>Started on a stable interim transcript, before the caller finished: it must not be heard until promoted.</summary>
    public bool Speculative => Read(ref _speculative);

    /// <summary>Audio waits here until the reply may be heard.</summary>
    public Task Opened => _open.Task;

    public bool IsOpen => _open.Task.IsCompleted;

    /// <summary>Text-to-speech failed and Telnyx speak said the rest.</summary>
    public bool SpokenByTelephony => Read(ref _spokenByTelephony);

    /// <summary>How the call ends once this reply has been heard; null when the conversation goes on.</summary>
    public CallEndReason? EndsCall
    {
        get
        {
            lock (_gate)
            {
                return _endsCall;
            }
        }
    }

    /// <summary>The first agent frame went out; null until then.</summary>
    public DateTimeOffset? FirstFrameAt
    {
        get
        {
            lock (_gate)
            {
                return _firstFrameAt;
            }
        }
    }

    /// <summary>Every sentence has been queued (or handed to Telnyx speak).</summary>
    public bool FullyHeard
    {
        get
        {
            lock (_gate)
            {
                return _allQueued && (_spokenByTelephony || _heard.Count >= _sentences.Count);
            }
        }
    }

    /// <summary>Starts speaking the reply; <paramref name="speak"/> runs until done or the reply is stopped.</summary>
    public void Start(Func<CancellationToken, Task> speak) => _run = speak(_cancellation.Token);

    /// <summary>Stops the reply and waits until its speaker has let go.</summary>
    public async Task StopAsync()
    {
        await _cancellation.CancelAsync();
        await _run;
        Dispose();
    }

    /// <summary>Stops a reply that cannot have sent audio without waiting for it; the task completes once it has let go.</summary>
    public Task Discard()
    {
        _cancellation.Cancel();
        return _run.ContinueWith(_ => Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>The speculation guessed the caller's words: this reply now answers the turn.</summary>
    public void Promote() => Write(ref _speculative, false);

    public void Open() => _open.TrySetResult();

    /// <summary>Ends the call once heard; a transfer the agent asked for wins over a hangup.</summary>
    public void EndCallAfter(CallEndReason reason)
    {
        lock (_gate)
        {
            _endsCall = _endsCall == CallEndReason.Transferred ? _endsCall : reason;
        }
    }

    public void AllQueued() => Write(ref _allQueued, true);

    /// <summary>Telnyx speak said the failed sentence and <paramref name="rest"/>: they join the reply's text, as the caller hears them.</summary>
    public void SpokeByTelephony(IEnumerable<string> rest)
    {
        lock (_gate)
        {
            _sentences.AddRange(rest);
            _spokenByTelephony = true;
        }
    }

    /// <summary>Sets the turn's latency origin; a provisional one (the caller was still heard) is corrected by <see cref="CallerStopped"/>.</summary>
    public void SetOrigin(DateTimeOffset origin, bool provisional)
    {
        lock (_gate)
        {
            _origin = origin;
            _originProvisional = provisional;
        }
    }

    /// <summary>The caller's speech ended: a provisional origin becomes the moment they stopped.</summary>
    public void CallerStopped(DateTimeOffset lastVoiceAt)
    {
        lock (_gate)
        {
            if (_originProvisional)
            {
                _origin = lastVoiceAt;
                _originProvisional = false;
            }
        }
    }

    /// <summary>When the reply may be heard: at once for a fixed line, after the hold from the origin for an answer.</summary>
    public DateTimeOffset OpenAt(DateTimeOffset now, TimeSpan hold)
    {
        lock (_gate)
        {
            return CallerText is null ? now : _origin + hold;
        }
    }

    public void Decided(DateTimeOffset at) => Stamp(ref _decidedAt, at);

    public void FirstToken(DateTimeOffset at) => Stamp(ref _firstTokenAt, at);

    public void FirstSentence(DateTimeOffset at) => Stamp(ref _firstSentenceAt, at);

    public void FirstAudio(DateTimeOffset at) => Stamp(ref _firstAudioAt, at);

    /// <summary>Notes the first agent frame on the wire; false when one was already noted.</summary>
    public bool FirstFrame(DateTimeOffset at) => Stamp(ref _firstFrameAt, at);

    public int AddSentence(string sentence)
    {
        lock (_gate)
        {
            _sentences.Add(sentence);
            return _sentences.Count - 1;
        }
    }

    public void MarkHeard(int sentence)
    {
        lock (_gate)
        {
            _heard.Add(sentence);
        }
    }

    /// <summary>The sentences the caller heard in full, in order.</summary>
    public string HeardText(bool all)
    {
        lock (_gate)
        {
            return string.Join(' ', _sentences.Where((_, i) => all || _heard.Contains(i)));
        }
    }

    public TurnTimings Timings()
    {
        lock (_gate)
        {
            return new(Since(_decidedAt), Since(_firstTokenAt), Since(_firstSentenceAt), Since(_firstAudioAt), Since(_firstFrameAt));
        }
    }

    public static string MarkName(int reply, int sentence) => $"r{reply}s{sentence}";

    public static bool TryParseMark(string name, out int reply, out int sentence)
    {
        reply = sentence = 0;
        var s = name.IndexOf('s', StringComparison.Ordinal);
        return name.StartsWith('r') && s > 1
            && int.TryParse(name.AsSpan(1, s - 1), out reply)
            && int.TryParse(name.AsSpan(s + 1), out sentence);
    }

    public void Dispose() => _cancellation.Dispose();

    private bool Read(ref bool field)
    {
        lock (_gate)
        {
            return field;
        }
    }

    private void Write(ref bool field, bool value)
    {
        lock (_gate)
        {
            field = value;
        }
    }

    private bool Stamp(ref DateTimeOffset? field, DateTimeOffset at)
    {
        lock (_gate)
        {
            if (field is not null)
            {
                return false;
            }

            field = at;
            return true;
        }
    }

    private TimeSpan? Since(DateTimeOffset? at) => at is { } t ? (t > _origin ? t - _origin : TimeSpan.Zero) : null;
}
