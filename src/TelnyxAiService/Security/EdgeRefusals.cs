using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace TelnyxAiService.Security;

/// <summary>
/// Requests refused at the edge (webhooks that fail their checks, media-stream connections without a valid token or
/// start, API calls without the key): each is counted in the <c>telnyx_ai.edge.refused</c> metric, tagged by surface
/// and reason, and logged at a bounded rate (the first of a surface, then at most one line a minute with the number
/// refused since), so a flood of bad requests cannot flood the log. Reasons are our own fixed words, never request text.
/// </summary>
public sealed partial class EdgeRefusals
{
    public const string Metric = "telnyx_ai.edge.refused";
    private static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);

    private readonly Counter<long> _refused;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    public EdgeRefusals(IMeterFactory meters, ILogger<EdgeRefusals> logger, TimeProvider time)
    {
        _refused = meters.Create(Telemetry.ServiceTelemetry.Name).CreateCounter<long>(Metric, description: "Requests refused at the edge, by surface and reason");
        _logger = logger;
        _time = time;
    }

    /// <summary>Counts one refusal on <paramref name="surface"/> (webhook, media, api) for <paramref name="reason"/>.</summary>
    public void Refuse(string surface, string reason)
    {
        _refused.Add(1, new KeyValuePair<string, object?>("surface", surface), new KeyValuePair<string, object?>("reason", reason));
        var window = _windows.GetOrAdd(surface, _ => new Window());
        var now = _time.GetUtcNow();
        long suppressed;
        lock (window)
        {
            if (window.LoggedAt is { } last && now - last < LogInterval)
            {
                window.Suppressed++;
                return;
            }

            suppressed = window.Suppressed;
            window.Suppressed = 0;
            window.LoggedAt = now;
        }

        LogRefused(_logger, surface, reason, suppressed);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a {Surface} request: {Reason} ({Suppressed} more refused on this surface since the last line)")]
    private static partial void LogRefused(ILogger logger, string surface, string reason, long suppressed);

    private sealed class Window
    {
        public DateTimeOffset? LoggedAt { get; set; }

        public long Suppressed { get; set; }
    }
}
