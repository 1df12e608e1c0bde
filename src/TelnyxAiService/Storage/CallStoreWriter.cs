using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using TelnyxAiService.Background;

namespace TelnyxAiService.Storage;

/// <summary>
/// Writes turns, answers, call ends and events that need no answer in the background, in the order they were queued, so
/// the conversation never waits for the database.
/// <para>
/// An outage loses nothing: a write that fails because the store is unreachable or busy (<see cref="IsTransient"/>) is
/// retried, with the backoff doubling from 200 ms up to 5 s, until it is stored or the writer is stopped; the writes
/// queued behind it wait (one reader, so the order holds). The outage is logged once when it starts and once when it
/// ends. The queue holds <see cref="Capacity"/> writes: at 100 live calls each storing a turn every 4 s (25 writes a
/// second) that is about 7 minutes of outage; past that, <see cref="TryAppendTurn"/> and <see cref="TrySetAnswered"/>
/// drop (logged) and the awaiting methods wait for room. Nothing is spilled to a local file: it would need its own
/// format, fsync and replay for little more than these minutes, with SQLite it would sit on the disk that is failing, and
/// a call whose end never reaches the store (the process dies meanwhile) is taken over with its lease and settled from
/// what Telnyx says (<see cref="Failover.CallLeases"/>).
/// </para>
/// <para>
/// Any other failure (a bug, a constraint violation) is retried a few times, then reported as lost in the log (with the
/// call id, never the text), and the queue goes on. On stop (or dispose) the queue is drained and flushed, through an
/// outage too; whatever the host's shutdown timeout cuts off is counted in the log.
/// </para>
/// </summary>
internal sealed partial class CallStoreWriter(ICallStore calls, ITurnStore turns, IWebhookEventStore events, ILogger<CallStoreWriter> logger, TimeProvider time) : IHostedService, IAsyncDisposable
{
    /// <summary>Writes the queue holds before <see cref="AppendTurnAsync"/> waits (the database is far behind).</summary>
    public const int Capacity = 10_000;

    // The SQLite result codes (https://sqlite.org/rescode.html) that IsTransient counts as an outage.
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;

    /// <summary>The waits after a failure that is not an outage; then the write is given up.</summary>
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)];

    /// <summary>The first wait during an outage; it doubles on every failure up to <see cref="OutageMaxDelay"/>.</summary>
    private static readonly TimeSpan OutageFirstDelay = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan OutageMaxDelay = TimeSpan.FromSeconds(5);

    private readonly BackgroundQueue queue = new(Capacity);

    /// <summary>Writes given up since the last stop, reported when the writer stops.</summary>
    private int abandoned;

    /// <summary>When the current outage began (<see cref="TimeProvider.GetTimestamp"/>); null while the store answers.</summary>
    private long? outageStarted;

    /// <summary>Writes queued behind the one being written.</summary>
    public int Pending => queue.Pending;

    /// <summary>
    /// Whether <paramref name="exception"/> says the store is unreachable or busy for now, so the write will succeed
    /// later as it is: Npgsql's <see cref="DbException.IsTransient"/> (connection failures, timeouts, a server starting
    /// up or out of connections), plus the server shutting down or crashing under a running statement (57P01, 57P02);
    /// for SQLite, which never sets it, a locked or busy database and a file that cannot be opened, read or written
    /// (missing directory, permissions, I/O error, disk full); and a timeout or cancellation from the driver that is not
    /// our own stop.
    /// </summary>
    internal static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown } => true,
        SqliteException sqlite => (sqlite.SqliteErrorCode & 0xFF) is SqliteBusy or SqliteLocked or SqliteReadOnly or SqliteIoError or SqliteFull or SqliteCantOpen,
        DbException db => db.IsTransient,
        TimeoutException or OperationCanceledException => true,
        _ => false,
    };

    /// <summary>Queues a finished turn; completes at once unless the queue is full.</summary>
    public ValueTask AppendTurnAsync(TurnRecord turn, CancellationToken cancellationToken) =>
        queue.EnqueueAsync(Write(new PendingWrite("turn", turn.CallId, ct => turns.AppendTurnAsync(turn, ct))), cancellationToken);

    /// <summary>Queues a finished turn without ever waiting (the audio path); false when the queue is full or stopped.</summary>
    public bool TryAppendTurn(TurnRecord turn)
    {
        if (queue.TryEnqueue(Write(new PendingWrite("turn", turn.CallId, ct => turns.AppendTurnAsync(turn, ct)))))
        {
            return true;
        }

        LogDropped(logger, "turn", turn.CallId);
        return false;
    }

    /// <summary>Queues an event whose dedupe answer nobody waits for; completes at once unless the queue is full.</summary>
    public ValueTask RecordEventAsync(CallEvent callEvent, CancellationToken cancellationToken) =>
        queue.EnqueueAsync(Write(new PendingWrite("event", callEvent.CallId, ct => events.TryRecordEventAsync(callEvent, ct))), cancellationToken);

    /// <summary>Queues "the call was answered" without waiting; false when the queue is full or stopped.</summary>
    public bool TrySetAnswered(string callId)
    {
        if (queue.TryEnqueue(Write(new PendingWrite("answer", callId, ct => calls.SetAnsweredAsync(callId, ct)))))
        {
            return true;
        }

        LogDropped(logger, "answer", callId);
        return false;
    }

    /// <summary>
    /// Closes the call after every write queued before it (its turns), and completes once that is stored (or given up),
    /// so whoever acts on the call's end afterwards knows its transcript is in the database. During an outage it waits
    /// until the store is back.
    /// </summary>
    public Task EndCallAsync(string callId, CallStatus status, string? endReason, string? hangupCause, CancellationToken cancellationToken) =>
        queue.EnqueueAndWaitAsync(Write(new PendingWrite("end", callId, ct => calls.SetEndedAsync(callId, status, endReason, hangupCause, ct))), cancellationToken);

    /// <summary>Completes once every write queued before it is stored (or given up).</summary>
    public Task FlushAsync(CancellationToken cancellationToken) => queue.FlushAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        queue.Start();
        return Task.CompletedTask;
    }

    /// <summary>Stops taking writes and flushes the queue; when <paramref name="cancellationToken"/> fires, gives up on the rest.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await queue.StopAsync(cancellationToken);
        if (Interlocked.Exchange(ref abandoned, 0) is > 0 and var count)
        {
            LogNotStored(logger, count);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        await queue.DisposeAsync();
    }

    /// <summary>The queued job of a write: it is written, or counted as given up.</summary>
    private Func<CancellationToken, Task> Write(PendingWrite write) => async cancellationToken =>
    {
        if (cancellationToken.IsCancellationRequested || !await TryWriteAsync(write, cancellationToken))
        {
            Interlocked.Increment(ref abandoned);
        }
    };

    /// <returns>False when the write was given up.</returns>
    private async Task<bool> TryWriteAsync(PendingWrite write, CancellationToken cancellationToken)
    {
        var failures = 0;
        var outageDelay = OutageFirstDelay;
        while (true)
        {
            TimeSpan delay;
            try
            {
                await write.Run(cancellationToken);
                EndOutage();
                return true;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e) when (IsTransient(e))
            {
                if (outageStarted is null)
                {
                    outageStarted = time.GetTimestamp();
                    LogOutageStarted(logger, Pending + 1, e);
                }

                delay = outageDelay;
                outageDelay = TimeSpan.FromTicks(Math.Min(outageDelay.Ticks * 2, OutageMaxDelay.Ticks));
            }
            catch (Exception e) when (failures < RetryDelays.Length)
            {
                EndOutage();
                failures++;
                LogRetrying(logger, write.Kind, write.CallId, failures, e);
                delay = RetryDelays[failures - 1];
            }
            catch (Exception e)
            {
                EndOutage();
                LogLost(logger, write.Kind, write.CallId, failures + 1, e);
                return false;
            }

            try
            {
                await Task.Delay(delay, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    /// <summary>The store answered (the write succeeded or failed for another reason): the outage, if any, is over.</summary>
    private void EndOutage()
    {
        if (outageStarted is { } started)
        {
            outageStarted = null;
            LogOutageEnded(logger, time.GetElapsedTime(started).TotalSeconds, Pending + 1);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing a {Kind} of call {CallId} failed (attempt {Attempt}); retrying")]
    private static partial void LogRetrying(ILogger logger, string kind, string? callId, int attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "A {Kind} of call {CallId} was not stored after {Attempts} attempts")]
    private static partial void LogLost(ILogger logger, string kind, string? callId, int attempts, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The call store is unreachable; {Waiting} writes wait in order and are retried until it is back")]
    private static partial void LogOutageStarted(ILogger logger, int waiting, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The call store is back after {Seconds:0.0} s; {Waiting} writes waited and are stored now, in order")]
    private static partial void LogOutageEnded(ILogger logger, double seconds, int waiting);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} queued turns/events were not stored")]
    private static partial void LogNotStored(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "A {Kind} of call {CallId} was not stored: the write queue is full or stopped")]
    private static partial void LogDropped(ILogger logger, string kind, string callId);

    private sealed record PendingWrite(string Kind, string? CallId, Func<CancellationToken, Task> Run);
}
