using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Calls;

/// <summary>
/// Dials stored batch items: claims due items (each goes to exactly one instance), dials them no faster than
/// CALLS_PER_SECOND with at most MAX_CONCURRENT_CALLS calls live on this instance (theirs and the API's, <see cref="LiveCallLimit"/>), and records each attempt's outcome
/// from how its call ended, scheduling retries of busy and unanswered numbers. A call's id and dial command_id derive
/// from the item and attempt, so the same attempt is never dialled twice. Items claimed by a run whose lease lapsed are
/// adopted (<see cref="AdoptAsync"/>) from what the store says their call got to. Once the application starts stopping it
/// claims nothing more: a claimed item not yet dialled, or whose call was handed over, stays claimed for the instance
/// that takes the lease over.
/// </summary>
internal sealed partial class BatchDispatcher(
    IBatchStore store,
    ICallStore callStore,
    CallLauncher launcher,
    LiveCallLimit limit,
    CallsOptions calls,
    BatchOptions batch,
    StorageOptions storage,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<BatchDispatcher> logger) : BackgroundService
{
    /// <summary>How often the store is asked for due items when nothing wakes the dispatcher sooner.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ConcurrentDictionary<string, Task> _inFlight = new(StringComparer.Ordinal);
    private readonly TimeSpan _dialInterval = TimeSpan.FromSeconds(1 / calls.CallsPerSecond);
    private readonly SemaphoreSlim _dialTurn = new(1, 1);
    private DateTimeOffset _nextDial = DateTimeOffset.MinValue;
    private int _waitingToDial;
    private CancellationToken _draining = new(canceled: true);
    private CancellationToken _stopping = new(canceled: true);

    /// <summary>Our call id (and the dial's command_id) for an item's attempt: the same after any restart.</summary>
    public static string CallIdFor(string itemId, int attempt) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{itemId}#{attempt}")).AsSpan(0, 16));

    /// <summary>How a stored call's end counts for its batch item: only busy and unanswered attempts are retried.</summary>
    public static BatchItemStatus OutcomeOf(CallStatus status) => status switch
    {
        CallStatus.Completed => BatchItemStatus.Completed,
        CallStatus.Busy => BatchItemStatus.Busy,
        CallStatus.NoAnswer => BatchItemStatus.NoAnswer,
        _ => BatchItemStatus.Failed,
    };

    public override void Dispose()
    {
        _dialTurn.Dispose();
        base.Dispose();
    }

    /// <summary>Looks for due items now (a batch was created, or a call ended).</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>
    /// Carries on with items taken over from a run whose lease lapsed: an attempt whose call was resumed is recorded when
    /// that call ends, one whose call ended is recorded now, and one never dialled is dialled (once: same call id).
    /// </summary>
    /// <param name="resumed">The calls resumed in the same takeover, by call id.</param>
    public async Task AdoptAsync(IReadOnlyList<BatchItem> items, IReadOnlyDictionary<string, Task<CallStatus?>> resumed, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            var callId = CallIdFor(item.Id, item.Attempts);
            if (resumed.TryGetValue(callId, out var finished))
            {
                Track(item, finished);
            }
            else if (await callStore.GetCallAsync(callId, cancellationToken) is not { } call)
            {
                Track(item, null);
            }
            else if (call.EndedAt is not null)
            {
                await RecordAsync(item, OutcomeOf(call.Status), cancellationToken);
            }
            else
            {
                LogStillOpen(item.Id);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var draining = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        _draining = draining.Token;
        _stopping = stoppingToken;
        try
        {
            while (!draining.IsCancellationRequested)
            {
                await ClaimAsync(stoppingToken);
                using var interval = new CancellationTokenSource(PollInterval, time);
                using var poll = CancellationTokenSource.CreateLinkedTokenSource(draining.Token, interval.Token);
                try
                {
                    await _wake.Reader.ReadAsync(poll.Token);
                }
                catch (OperationCanceledException) when (!draining.IsCancellationRequested)
                {
                }
            }
        }
        catch (OperationCanceledException) when (draining.IsCancellationRequested)
        {
        }
        finally
        {
            await Task.WhenAll(_inFlight.Values);
        }
    }

    private async Task ClaimAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var free = Math.Min(limit.Available, calls.MaxConcurrentCalls - _inFlight.Count);
        var perSecond = Math.Max(1, (int)Math.Ceiling(calls.CallsPerSecond));
        var room = Math.Min(free, perSecond - Volatile.Read(ref _waitingToDial));
        if (room <= 0 || batch.Window?.Contains(now) == false)
        {
            return;
        }

        try
        {
            foreach (var item in await store.ClaimDueItemsAsync(storage.LeaseHolder, room, now, cancellationToken))
            {
                Track(item, null);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogClaimFailed(e);
        }
    }

    /// <param name="resumed">The attempt's call when it is already live (resumed), or null to dial it.</param>
    private void Track(BatchItem item, Task<CallStatus?>? resumed)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inFlight[item.Id] = done.Task;
        _ = RunAsync(item, resumed, done, _draining, _stopping);
    }

    /// <summary>
    /// One attempt: wait for a dial slot, dial, wait for the call's end, record the outcome. When
    /// <paramref name="draining"/> is cancelled before the dial, or the call is handed over, the item stays claimed.
    /// </summary>
    private async Task RunAsync(BatchItem item, Task<CallStatus?>? resumed, TaskCompletionSource done, CancellationToken draining, CancellationToken cancellationToken)
    {
        try
        {
            var finished = resumed;
            if (finished is null
                && (!await WaitForDialSlotAsync(draining)
                    || (finished = await launcher.LaunchItemAsync(item, CallIdFor(item.Id, item.Attempts), draining, cancellationToken)) is null))
            {
                LogLeftForRestart(item.Id);
                return;
            }

            if (await finished.WaitAsync(cancellationToken) is not { } status)
            {
                LogLeftForRestart(item.Id);
                return;
            }

            await RecordAsync(item, OutcomeOf(status), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogItemFailed(item.Id, e);
        }
        finally
        {
            _inFlight.TryRemove(item.Id, out _);
            done.SetResult();
            Wake();
        }
    }

    private async Task RecordAsync(BatchItem item, BatchItemStatus outcome, CancellationToken cancellationToken)
    {
        DateTimeOffset? retryAt = outcome is BatchItemStatus.Busy or BatchItemStatus.NoAnswer && item.Attempts < batch.MaxAttempts
            ? time.GetUtcNow() + batch.RetryDelay(item.Attempts)
            : null;
        await store.RecordItemOutcomeAsync(item.Id, outcome, retryAt, cancellationToken);
        LogOutcome(item.Id, item.Attempts, outcome, retryAt is not null);
    }

    /// <summary>
    /// Lets one dial start at a time, at least 1/CALLS_PER_SECOND after the previous one actually started, so a stall
    /// never releases a burst of late dials at once.
    /// </summary>
    /// <returns>False when <paramref name="draining"/> was cancelled first.</returns>
    private async Task<bool> WaitForDialSlotAsync(CancellationToken draining)
    {
        Interlocked.Increment(ref _waitingToDial);
        try
        {
            await _dialTurn.WaitAsync(draining);
            try
            {
                var wait = _nextDial - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, draining);
                }

                _nextDial = time.GetUtcNow() + _dialInterval;
                return true;
            }
            finally
            {
                _dialTurn.Release();
            }
        }
        catch (OperationCanceledException) when (draining.IsCancellationRequested)
        {
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _waitingToDial);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch item {ItemId} attempt {Attempt}: {Outcome} (retry scheduled: {Retry})")]
    private partial void LogOutcome(string itemId, int attempt, BatchItemStatus outcome, bool retry);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch item {ItemId}: stopping before its dial or its call was handed over; left claimed for the instance that takes over")]
    private partial void LogLeftForRestart(string itemId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch item {ItemId}: its call is still open but was not resumed; left claimed")]
    private partial void LogStillOpen(string itemId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming batch items failed; trying again shortly")]
    private partial void LogClaimFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Batch item {ItemId}: the attempt failed unexpectedly and stays claimed until this instance restarts")]
    private partial void LogItemFailed(string itemId, Exception exception);
}
