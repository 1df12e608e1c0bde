using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.Telnyx.Media;

/// <summary>
/// The caller's earpiece: agent audio queues behind what is already playing and plays at real time. Everything is
/// computed from arrival times on one clock, so "what has played by now" needs no timer; only mark echoes do.
/// </summary>
internal sealed class Playout(EmulatedAudioFormat format, TimeSpan underrunTolerance)
{
    private readonly Lock _lock = new();
    private readonly List<Piece> _pieces = [];
    private readonly Queue<(string Name, TimeSpan Due)> _marks = new();
    private readonly List<TimeSpan> _clears = [];
    private TimeSpan _end;
    private TimeSpan _runStart;
    private bool _clearedSinceLastPiece;

    public IReadOnlyList<TimeSpan> Clears
    {
        get
        {
            lock (_lock)
            {
                return [.. _clears];
            }
        }
    }

    public void Enqueue(byte[] audio, TimeSpan now)
    {
        lock (_lock)
        {
            var start = now > _end ? now : _end;
            if (_clearedSinceLastPiece || now - _end >= underrunTolerance)
            {
                _runStart = start;
            }

            _clearedSinceLastPiece = false;
            _pieces.Add(new Piece(start, audio));
            _end = start + format.DurationOf(audio.Length);
        }
    }

    /// <summary>Queues a mark behind the queued audio; false when nothing is playing, so it is echoed at once.</summary>
    public bool TryQueueMark(string name, TimeSpan now)
    {
        lock (_lock)
        {
            if (_end <= now)
            {
                return false;
            }

            _marks.Enqueue((name, _end));
            return true;
        }
    }

    /// <summary>Stops playback at <paramref name="now"/>, drops the queue and returns every pending mark.</summary>
    public IReadOnlyList<string> Clear(TimeSpan now)
    {
        lock (_lock)
        {
            _clears.Add(now);
            _clearedSinceLastPiece = true;
            CutAt(now);
            var marks = _marks.Select(m => m.Name).ToList();
            _marks.Clear();
            return marks;
        }
    }

    public IReadOnlyList<string> TakeDueMarks(TimeSpan now)
    {
        lock (_lock)
        {
            var due = new List<string>();
            while (_marks.TryPeek(out var mark) && mark.Due <= now)
            {
                due.Add(_marks.Dequeue().Name);
            }

            return due;
        }
    }

    public TimeSpan? NextMarkDue
    {
        get
        {
            lock (_lock)
            {
                return _marks.TryPeek(out var mark) ? mark.Due : null;
            }
        }
    }

    /// <summary>True once audio has played after <paramref name="since"/> and nothing has played for <paramref name="quiet"/>.</summary>
    public bool FinishedSince(TimeSpan since, TimeSpan quiet, TimeSpan now)
    {
        lock (_lock)
        {
            return _end > since && now - _end >= quiet;
        }
    }

    /// <summary>True while agent audio is playing and has been for at least <paramref name="after"/>.</summary>
    public bool PlayingFor(TimeSpan after, TimeSpan now)
    {
        lock (_lock)
        {
            return now < _end && now - _runStart >= after;
        }
    }

    /// <summary>What played until <paramref name="end"/>, merged into segments across short underruns but never across a clear.</summary>
    public IReadOnlyList<HeardSegment> Heard(TimeSpan end)
    {
        lock (_lock)
        {
            CutAt(end);
            var segments = new List<HeardSegment>();
            var run = new List<Piece>();
            foreach (var piece in _pieces.Where(p => p.Audio.Length > 0))
            {
                if (run.Count > 0)
                {
                    var previousEnd = End(run[^1]);
                    if (piece.Start - previousEnd >= underrunTolerance || _clears.Any(c => c >= previousEnd && c <= piece.Start))
                    {
                        segments.Add(Segment(run));
                        run.Clear();
                    }
                }

                run.Add(piece);
            }

            if (run.Count > 0)
            {
                segments.Add(Segment(run));
            }

            return segments;
        }
    }

    private void CutAt(TimeSpan time)
    {
        _pieces.RemoveAll(p => p.Start >= time);
        if (_pieces.Count > 0 && End(_pieces[^1]) > time)
        {
            var last = _pieces[^1];
            var samples = (int)((time - last.Start).TotalSeconds * format.SampleRate);
            _pieces[^1] = last with { Audio = last.Audio[..(samples * format.BytesPerSample)] };
        }

        if (_end > time)
        {
            _end = time;
        }
    }

    private TimeSpan End(Piece piece) => piece.Start + format.DurationOf(piece.Audio.Length);

    private HeardSegment Segment(List<Piece> run)
    {
        var audio = run.SelectMany(p => p.Audio).ToArray();
        return new HeardSegment(run[0].Start, End(run[^1]), audio, format.DurationOf(audio.Length));
    }

    private sealed record Piece(TimeSpan Start, byte[] Audio);
}
