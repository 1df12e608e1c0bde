using System.Diagnostics;
using System.Diagnostics.Metrics;
using TelnyxAiService.Conversation;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Telemetry;

/// <summary>
/// The service's metrics (one meter, <see cref="Name"/>) and traces (one activity source of the same name): calls
/// ended by outcome, live calls, each turn's stage latencies, provider failures and, through
/// <see cref="Security.EdgeRefusals"/>, refused requests. A call is one trace: a <c>call</c> activity from its start to
/// its end, with a span per stage of each measured turn, placed at the times the stage really ran.
/// </summary>
public sealed class ServiceTelemetry : IDisposable
{
    public const string Name = "TelnyxAiService";

    /// <summary>Bucket bounds (ms) for turn stages: from a fast token to a slow voice-to-voice turn.</summary>
    private static readonly double[] LatencyBuckets = [25, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000];

    private readonly ActivitySource _source = new(Name);
    private readonly Counter<long> _callsEnded;
    private readonly Histogram<double> _turnStages;
    private readonly Counter<long> _providerFailures;
    private readonly TimeProvider _time;

    public ServiceTelemetry(IMeterFactory meters, SessionRegistry sessions, TimeProvider time)
    {
        var meter = meters.Create(Name);
        _callsEnded = meter.CreateCounter<long>("telnyx_ai.calls.ended", description: "Calls ended, by outcome (the stored status, or handed_over)");
        meter.CreateObservableGauge("telnyx_ai.calls.live", () => sessions.Count, description: "Calls live on this instance");
        _turnStages = meter.CreateHistogram<double>(
            "telnyx_ai.turn.stage.duration",
            "ms",
            "How long each stage of an answered turn took, by stage",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _providerFailures = meter.CreateCounter<long>("telnyx_ai.provider.failures", description: "Provider attempts retried (kind retry) and calls that failed for good (kind error), by provider");
        _time = time;
    }

    /// <summary>Starts the call's trace: a root <c>call</c> activity, whatever activity the caller is in.</summary>
    public Activity? CallStarted(CallSession session)
    {
        var outer = Activity.Current;
        Activity.Current = null;
        var call = _source.StartActivity(
            "call",
            ActivityKind.Internal,
            default(ActivityContext),
            [new("call.id", session.CallId), new("call.direction", StorageText<CallDirection>.Of(session.Direction))],
            startTime: _time.GetUtcNow());
        Activity.Current = outer;
        return call;
    }

    /// <summary>Counts the call's outcome (the stored status, or <c>handed_over</c>) and ends its trace.</summary>
    public void CallEnded(CallSession session, string outcome)
    {
        _callsEnded.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (session.Trace is { } call)
        {
            call.SetTag("call.outcome", outcome);
            call.SetEndTime(_time.GetUtcNow().UtcDateTime);
            call.Stop();
        }
    }

    /// <summary>
    /// Records an answered turn whose agent voice was first heard at <paramref name="heardAt"/>: each stage's duration,
    /// and in the call's trace a <c>voice_to_voice</c> span with a child span per stage.
    /// </summary>
    public void TurnMeasured(CallSession session, TurnTimings timings, DateTimeOffset heardAt)
    {
        var stages = timings.Stages();
        foreach (var (stage, from, to) in stages)
        {
            _turnStages.Record(Math.Max(0, (to - from).TotalMilliseconds), new KeyValuePair<string, object?>("stage", stage));
        }

        if (session.Trace is not { } call || timings.FirstAgentFrame is not { } voiceToVoice)
        {
            return;
        }

        var origin = heardAt - voiceToVoice;
        using var turn = Span("voice_to_voice", call.Context, origin, voiceToVoice);
        if (turn is null)
        {
            return;
        }

        foreach (var (stage, from, to) in stages.Where(s => s.Stage != "voice_to_voice"))
        {
            using var _ = Span(stage, turn.Context, origin + from, to - from);
        }
    }

    /// <summary>An attempt at <paramref name="provider"/> failed and is tried again.</summary>
    public void ProviderRetried(string provider) => ProviderFailure(provider, "retry");

    /// <summary>A call to <paramref name="provider"/> failed for good (after its retries).</summary>
    public void ProviderFailed(string provider) => ProviderFailure(provider, "error");

    public void Dispose() => _source.Dispose();

    private void ProviderFailure(string provider, string kind) =>
        _providerFailures.Add(1, new KeyValuePair<string, object?>("provider", provider), new KeyValuePair<string, object?>("kind", kind));

    /// <summary>A finished span; a stage that took no time still gets a tick, as a zero end would mean "now".</summary>
    private Activity? Span(string name, ActivityContext parent, DateTimeOffset start, TimeSpan duration)
    {
        var span = _source.StartActivity(name, ActivityKind.Internal, parent, startTime: start);
        span?.SetEndTime(start.UtcDateTime + TimeSpan.FromTicks(Math.Max(1, duration.Ticks)));
        return span;
    }
}
