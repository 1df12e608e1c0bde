using TelnyxAiService.Telemetry;

namespace TelnyxAiService.Conversation;

/// <summary>
/// Counters since start and a window of recent voice-to-voice turn latencies, for /api/sessions/stats; measured turns
/// also go to <see cref="ServiceTelemetry"/>.
/// </summary>
public sealed class CallStats(ServiceTelemetry telemetry)
{
    private const int Window = 2048;
    private readonly double[] _latencies = new double[Window];
    private readonly Lock _gate = new();
    private long _started;
    private long _answered;
    private long _completed;
    private long _failed;
    private long _turns;

    public void CallStarted() => Interlocked.Increment(ref _started);

    public void CallAnswered() => Interlocked.Increment(ref _answered);

    public void CallCompleted() => Interlocked.Increment(ref _completed);

    public void CallFailed() => Interlocked.Increment(ref _failed);

    /// <summary>An answered turn whose agent voice was first heard at <paramref name="heardAt"/>.</summary>
    public void TurnMeasured(CallSession session, TurnTimings timings, DateTimeOffset heardAt)
    {
        lock (_gate)
        {
            _latencies[_turns % Window] = timings.FirstAgentFrame!.Value.TotalMilliseconds;
            _turns++;
        }

        telemetry.TurnMeasured(session, timings, heardAt);
    }

    public StatsSnapshot Snapshot(int activeSessions)
    {
        double[] window;
        long turns;
        lock (_gate)
        {
            turns = _turns;
            window = _latencies[..(int)Math.Min(turns, Window)];
        }

        Array.Sort(window);
        return new StatsSnapshot(
            activeSessions,
            Interlocked.Read(ref _started),
            Interlocked.Read(ref _answered),
            Interlocked.Read(ref _completed),
            Interlocked.Read(ref _failed),
            turns,
            window.Length == 0 ? null : Math.Round(window.Average(), 1),
            Percentile(window, 0.50),
            Percentile(window, 0.95));
    }

    private static double? Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? null : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

public sealed record StatsSnapshot(
    int ActiveSessions,
    long CallsStarted,
    long CallsAnswered,
    long CallsCompleted,
    long CallsFailed,
    long TurnsMeasured,
    double? TurnLatencyMeanMs,
    double? TurnLatencyP50Ms,
    double? TurnLatencyP95Ms);
