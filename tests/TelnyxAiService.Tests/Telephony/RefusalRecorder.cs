using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Security;

namespace TelnyxAiService.Tests.Telephony;

/// <summary>The edge refusals one hosted app counts, as (surface, reason), read from its own meter factory.</summary>
internal sealed class RefusalRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Surface, string Reason)> _refusals = new();

    public RefusalRecorder(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name == EdgeRefusals.Metric)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? surface = null, reason = null;
            foreach (var tag in tags)
            {
                surface = tag.Key == "surface" ? tag.Value as string : surface;
                reason = tag.Key == "reason" ? tag.Value as string : reason;
            }

            _refusals.Enqueue((surface ?? "", reason ?? ""));
        });
        _listener.Start();
    }

    public IReadOnlyList<(string Surface, string Reason)> Refusals => [.. _refusals];

    public void Dispose() => _listener.Dispose();
}
