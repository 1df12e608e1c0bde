namespace TelnyxAiService.Conversation;

/// <summary>
/// One agent reply in flight on a media stream: its text as it is spoken sentence by sentence, which sentences the
/// caller has heard (their marks came back), and the moments each stage first produced something.
/// </summary>
public sealed class Reply(int id, string? callerText, string? fixedText, bool speculative, CancellationToken callEnding) : IDisposable
{
    private readonly List<string> _sentences = [];
    private readonly HashSet<int> _heard = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Id { get; } = id;

    /// <summary>The caller's words this reply answers; null for the greeting and other fixed lines.</summary>
    public string? CallerText { get; } = callerText;

    /// <summary>A line to say as is, without the agent.</summary>
    public string? FixedText { get; } = fixedText;

    /// <summary>Started on a stable interim transcript, before the caller finished: it must not be heard until promoted.</summary>
    public bool Speculative { get; set; } = speculative;

    public CancellationTokenSource Cancellation { get; } = CancellationTokenSource.CreateLinkedTokenSource(callEnding);

    public Task Run { get; set; } = Task.CompletedTask;

    /// <summary>Audio waits here until the reply may be heard.</summary>
    public Task Opened => _open.Task;

    public bool IsOpen => _open.Task.IsCompleted;

    public bool EndCall { get; set; }

    public CallEndReason EndReason { get; set; } = CallEndReason.AgentHangup;

    public bool Transfer { get; set; }

    /// <summary>Every sentence has been queued (or handed to Telnyx speak).</summary>
    public bool AllQueued { get; set; }

    /// <summary>Text-to-speech failed and Telnyx speak said the rest.</summary>
    public bool SpokenByTelephony { get; set; }

    /// <summary>When the caller stopped speaking (the turn's latency origin).</summary>
    public DateTimeOffset Origin { get; set; }

    /// <summary>The caller was still heard when the turn was decided; <see cref="Origin"/> is corrected when they stop.</summary>
    public bool OriginProvisional { get; set; }

    public DateTimeOffset? DecidedAt { get; set; }

    public DateTimeOffset? FirstTokenAt { get; set; }

    public DateTimeOffset? FirstSentenceAt { get; set; }

    public DateTimeOffset? FirstAudioAt { get; set; }

    public DateTimeOffset? FirstFrameAt { get; set; }

    public DateTimeOffset? OpenAt { get; set; }

    public void Open() => _open.TrySetResult();

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

    public bool FullyHeard
    {
        get
        {
            lock (_gate)
            {
                return AllQueued && (SpokenByTelephony || _heard.Count >= _sentences.Count);
            }
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

    public TurnLatency Latency() => new()
    {
        TurnDecided = Since(DecidedAt),
        FirstToken = Since(FirstTokenAt),
        FirstSentence = Since(FirstSentenceAt),
        FirstAudioByte = Since(FirstAudioAt),
        FirstAgentFrame = Since(FirstFrameAt),
    };

    public static string MarkName(int reply, int sentence) => $"r{reply}s{sentence}";

    public static bool TryParseMark(string name, out int reply, out int sentence)
    {
        reply = sentence = 0;
        var s = name.IndexOf('s', StringComparison.Ordinal);
        return name.StartsWith('r') && s > 1
            && int.TryParse(name.AsSpan(1, s - 1), out reply)
            && int.TryParse(name.AsSpan(s + 1), out sentence);
    }

    public void Dispose() => Cancellation.Dispose();

    private TimeSpan? Since(DateTimeOffset? at) => at is { } t ? (t > Origin ? t - Origin : TimeSpan.Zero) : null;
}
