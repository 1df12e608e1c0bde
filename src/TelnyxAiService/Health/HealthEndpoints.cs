using System.Diagnostics;
using System.Net.Sockets;
using System.Reflection;
using TelnyxAiService.Providers;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Health;

/// <summary>
/// <c>GET /api/health</c>: version, uptime, every provider's mode and reachability and whether the store answers; 503 when
/// a provider or the store is unreachable.
/// </summary>
public static class HealthEndpoints
{
    private static readonly string Version =
        (typeof(HealthEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    private static readonly DateTimeOffset Started = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddSingleton<ProviderProbe>();
        services.AddSingleton<StoreProbe>();
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/health", async (IEnumerable<ProviderInfo> providers, ProviderProbe probe, StoreProbe store, StorageOptions storage, TimeProvider time, CancellationToken ct) =>
        {
            var storeReachable = store.ReachableAsync(ct);
            var checks = await Task.WhenAll(providers.Select(async p => new ProviderCheck(
                p.Capability,
                p.Provider,
                p.Mode.ToString().ToLowerInvariant(),
                p.BaseUrl?.ToString(),
                await probe.ReachableAsync(p.BaseUrl, ct))));
            var storeCheck = new StoreCheck(storage.Provider.ToString().ToLowerInvariant(), await storeReachable);
            var healthy = checks.All(c => c.Reachable) && storeCheck.Reachable;
            return Results.Json(
                new HealthReport(healthy ? "ok" : "degraded", Version, (long)(time.GetUtcNow() - Started).TotalSeconds, checks, storeCheck),
                Calls.CallsJson.Default.HealthReport,
                statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }
}

/// <summary>The body of <c>GET /api/health</c>.</summary>
internal sealed record HealthReport(string Status, string Version, long UptimeSeconds, IReadOnlyList<ProviderCheck> Providers, StoreCheck Store);

internal sealed record ProviderCheck(string Capability, string Provider, string Mode, string? BaseUrl, bool Reachable);

internal sealed record StoreCheck(string Provider, bool Reachable);

/// <summary>Whether a provider's host accepts TCP connections, remembered for a few seconds so health checks stay cheap.</summary>
public sealed class ProviderProbe(TimeProvider time)
{
    private static readonly TimeSpan Remember = TimeSpan.FromSeconds(10);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (DateTimeOffset At, bool Reachable)> _results = new(StringComparer.Ordinal);

    public async Task<bool> ReachableAsync(Uri? url, CancellationToken cancellationToken)
    {
        if (url is null)
        {
            return true;
        }

        var key = $"{url.Host}:{url.Port}";
        if (_results.TryGetValue(key, out var known) && time.GetUtcNow() - known.At < Remember)
        {
            return known.Reachable;
        }

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2), time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        bool reachable;
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(url.Host, url.Port, timeout.Token);
            reachable = true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            reachable = false;
        }

        _results[key] = (time.GetUtcNow(), reachable);
        return reachable;
    }
}

/// <summary>
/// Whether the store answers, remembered for a second: health stays cheap, and a flood of health requests (the endpoint
/// is open to anyone) costs the database at most one query a second.
/// </summary>
internal sealed class StoreProbe(SqlDialect dialect, TimeProvider time)
{
    private static readonly TimeSpan Remember = TimeSpan.FromSeconds(1);
    private volatile Result? _last;

    public async Task<bool> ReachableAsync(CancellationToken cancellationToken)
    {
        if (_last is { } last && time.GetUtcNow() - last.At < Remember)
        {
            return last.Reachable;
        }

        var reachable = await QueryAsync(cancellationToken);
        _last = new Result(time.GetUtcNow(), reachable);
        return reachable;
    }

    /// <summary>Whether the database answers a cheap query within a couple of seconds.</summary>
    /// <remarks>Reads a table rather than <c>SELECT 1</c>, which SQLite answers without touching the file.</remarks>
    private async Task<bool> QueryAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), time);
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await using var connection = await dialect.OpenAsync(probe.Token);
            await connection.NumberAsync("SELECT COUNT(*) FROM schema_migrations", null, probe.Token);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private sealed record Result(DateTimeOffset At, bool Reachable);
}
