using TelnyxAiService.Providers;

namespace TelnyxAiService.Calls;

public sealed record BatchItemResult(int Index, string Status, string? CallId, string? CallControlId, string? Error);

/// <summary>Dials a batch concurrently, never more than MAX_CONCURRENT_CALLS dials at once nor faster than CALLS_PER_SECOND.</summary>
public sealed class BatchDialer(CallLauncher launcher, CallsOptions options, TimeProvider time)
{
    public async Task<BatchItemResult[]> DialAsync(IReadOnlyList<CallRequest> calls, CancellationToken cancellationToken)
    {
        using var concurrency = new SemaphoreSlim(options.MaxConcurrentCalls);
        var pacer = new Pacer(TimeSpan.FromSeconds(1 / options.CallsPerSecond), time);
        return await Task.WhenAll(calls.Select(async (call, index) =>
        {
            await concurrency.WaitAsync(cancellationToken);
            try
            {
                await pacer.WaitTurnAsync(cancellationToken);
                var launched = await launcher.LaunchAsync(call, cancellationToken);
                return new BatchItemResult(index, "dialing", launched.CallId, launched.CallControlId, null);
            }
            catch (ProviderException e)
            {
                return new BatchItemResult(index, "failed", null, null, e.Message);
            }
            finally
            {
                concurrency.Release();
            }
        }));
    }

    /// <summary>Hands out start times at least one interval apart.</summary>
    private sealed class Pacer(TimeSpan interval, TimeProvider time)
    {
        private readonly Lock _gate = new();
        private DateTimeOffset _next = DateTimeOffset.MinValue;

        public Task WaitTurnAsync(CancellationToken cancellationToken)
        {
            var now = time.GetUtcNow();
            DateTimeOffset slot;
            lock (_gate)
            {
                slot = _next > now ? _next : now;
                _next = slot + interval;
            }

            return slot > now ? Task.Delay(slot - now, time, cancellationToken) : Task.CompletedTask;
        }
    }
}
