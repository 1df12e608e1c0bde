using System.Threading.Channels;

namespace TelnyxAiService.Storage;

/// <summary>
/// Writes turns and events that need no answer in the background, so the conversation never waits for the database.
/// A failed write is retried a few times, then reported as lost in the log (with the call id, never the text). On stop
/// (or dispose) the queue is drained and flushed; whatever the host's shutdown timeout cuts off is counted in the log.
/// </summary>
internal sealed partial class CallStoreWriter(ICallStore store, ILogger<CallStoreWriter> logger, TimeProvider time) : IHostedService, IAsyncDisposable
{
    /// <summary>Writes the queue holds before <see cref="AppendTurnAsync"/> waits (the database is far behind).</summary>
    public const int Capacity = 10_000;

    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)];

    private readonly Channel<PendingWrite> queue = Channel.CreateBounded<PendingWrite>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly CancellationTokenSource abort = new();
    private readonly Lock gate = new();
    private Task? drain;

    /// <summary>Queues a finished turn; completes at once unless the queue is full.</summary>
    public ValueTask AppendTurnAsync(TurnRecord turn, CancellationToken cancellationToken) =>
        queue.Writer.WriteAsync(new PendingWrite(turn.CallId, turn, null), cancellationToken);

    /// <summary>Queues an event whose dedupe answer nobody waits for; completes at once unless the queue is full.</summary>
    public ValueTask RecordEventAsync(CallEvent callEvent, CancellationToken cancellationToken) =>
        queue.Writer.WriteAsync(new PendingWrite(callEvent.CallId, null, callEvent), cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureDraining();
        return Task.CompletedTask;
    }

    /// <summary>Stops taking writes and flushes the queue; when <paramref name="cancellationToken"/> fires, gives up on the rest.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        var draining = EnsureDraining();
        try
        {
            await draining.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await abort.CancelAsync();
            await draining;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        abort.Dispose();
    }

    private Task EnsureDraining()
    {
        lock (gate)
        {
            return drain ??= Task.Run(() => DrainAsync(abort.Token));
        }
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var abandoned = 0;
        await foreach (var write in queue.Reader.ReadAllAsync(CancellationToken.None))
        {
            if (cancellationToken.IsCancellationRequested || !await WriteAsync(write, cancellationToken))
            {
                abandoned++;
            }
        }

        if (abandoned > 0)
        {
            LogNotStored(logger, abandoned);
        }
    }

    /// <returns>False when the write was given up.</returns>
    private async Task<bool> WriteAsync(PendingWrite write, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (write.Turn is not null)
                {
                    await store.AppendTurnAsync(write.Turn, cancellationToken);
                }
                else
                {
                    await store.TryRecordEventAsync(write.Event!, cancellationToken);
                }

                return true;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e) when (attempt <= RetryDelays.Length)
            {
                LogRetrying(logger, write.Kind, write.CallId, attempt, e);
                try
                {
                    await Task.Delay(RetryDelays[attempt - 1], time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
            catch (Exception e)
            {
                LogLost(logger, write.Kind, write.CallId, attempt, e);
                return false;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing a {Kind} of call {CallId} failed (attempt {Attempt}); retrying")]
    private static partial void LogRetrying(ILogger logger, string kind, string? callId, int attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "A {Kind} of call {CallId} was not stored after {Attempts} attempts")]
    private static partial void LogLost(ILogger logger, string kind, string? callId, int attempts, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} queued turns/events were not stored")]
    private static partial void LogNotStored(ILogger logger, int count);

    private sealed record PendingWrite(string? CallId, TurnRecord? Turn, CallEvent? Event)
    {
        public string Kind => Turn is null ? "event" : "turn";
    }
}
