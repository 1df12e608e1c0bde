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
        queue.Writer.WriteAsync(new PendingWrite("turn", turn.CallId, (s, ct) => s.AppendTurnAsync(turn, ct)), cancellationToken);

    /// <summary>Queues a finished turn without ever waiting (the audio path); false when the queue is full or stopped.</summary>
    public bool TryAppendTurn(TurnRecord turn)
    {
        if (queue.Writer.TryWrite(new PendingWrite("turn", turn.CallId, (s, ct) => s.AppendTurnAsync(turn, ct))))
        {
            return true;
        }

        LogDropped(logger, turn.CallId);
        return false;
    }

    /// <summary>Queues an event whose dedupe answer nobody waits for; completes at once unless the queue is full.</summary>
    public ValueTask RecordEventAsync(CallEvent callEvent, CancellationToken cancellationToken) =>
        queue.Writer.WriteAsync(new PendingWrite("event", callEvent.CallId, (s, ct) => s.TryRecordEventAsync(callEvent, ct)), cancellationToken);

    /// <summary>Queues "the call was answered" without waiting; false when the queue is full or stopped.</summary>
    public bool TrySetAnswered(string callId) =>
        queue.Writer.TryWrite(new PendingWrite("answer", callId, (s, ct) => s.SetAnsweredAsync(callId, ct)));

    /// <summary>
    /// Closes the call after every write queued before it (its turns), and completes once that is stored (or given up),
    /// so whoever acts on the call's end afterwards knows its transcript is in the database.
    /// </summary>
    public async Task EndCallAsync(string callId, CallStatus status, string? endReason, string? hangupCause, CancellationToken cancellationToken)
    {
        var stored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await queue.Writer.WriteAsync(new PendingWrite("end", callId, (s, ct) => s.SetEndedAsync(callId, status, endReason, hangupCause, ct), stored), cancellationToken);
        await stored.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Completes once every write queued before it is stored (or given up).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var stored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await queue.Writer.WriteAsync(new PendingWrite("flush", null, (_, _) => Task.CompletedTask, stored), cancellationToken);
        await stored.Task.WaitAsync(cancellationToken);
    }

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

            write.Stored?.TrySetResult();
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
                await write.Run(store, cancellationToken);

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

    [LoggerMessage(Level = LogLevel.Error, Message = "A turn of call {CallId} was not stored: the write queue is full or stopped")]
    private static partial void LogDropped(ILogger logger, string callId);

    /// <param name="Stored">Completed once the write is done or given up, for a caller that waits.</param>
    private sealed record PendingWrite(string Kind, string? CallId, Func<ICallStore, CancellationToken, Task> Run, TaskCompletionSource? Stored = null);
}
