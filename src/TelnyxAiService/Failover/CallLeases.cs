using TelnyxAiService.Calls;
using TelnyxAiService.Conversation;
using TelnyxAiService.Storage;
using StoredStatus = TelnyxAiService.Storage.CallStatus;

namespace TelnyxAiService.Failover;

/// <summary>
/// Makes calls outlive the process that runs them. Every live call and claimed batch item is stored as held by this
/// run (<see cref="StorageOptions.LeaseHolder"/>), whose lease is renewed every <see cref="FailoverOptions.Heartbeat"/>
/// (looked at every second, so never later than that).
/// Once the server listens, and then every second, what lapsed leases held is taken over: a restart takes over its
/// earlier run's calls at once, another instance on the same PostgreSQL those of a dead instance after LEASE_SECONDS.
/// Taken calls are resumed (<see cref="CallLauncher.ResumeAsync"/>) and taken items adopted
/// (<see cref="BatchDispatcher.AdoptAsync"/>). On SIGTERM live calls go on for up to DRAIN_SECONDS, then are handed
/// over: their turns are flushed to the store and the lease released, so the next holder resumes them at once.
/// </summary>
/// <remarks>
/// After the store was unreachable, takeovers wait until the lease has been renewed for a whole LEASE_SECONDS again, so
/// that every instance has renewed before any judges another dead; calls another instance took meanwhile are let go.
/// </remarks>
internal sealed partial class CallLeases(
    ILeaseStore store,
    StorageOptions storage,
    FailoverOptions options,
    CallLauncher launcher,
    BatchDispatcher batches,
    CallSupervisor supervisor,
    SessionRegistry sessions,
    CallStoreWriter writer,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<CallLeases> logger) : BackgroundService
{
    private static readonly TimeSpan ScanInterval = TimeSpan.FromSeconds(1);

    private DateTimeOffset _renewed;
    private DateTimeOffset _renewingSince;

    /// <summary>Starts the lease before anything is stored under it (the server is not listening yet).</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await store.StartLeaseAsync(storage.LeaseHolder, storage.InstanceId, now, cancellationToken);
        _renewed = now;
        _renewingSince = now - options.Lease;
        LogLease(storage.LeaseHolder, options.Lease.TotalSeconds, options.Drain.TotalSeconds);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        try
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            {
                await started.Task.WaitAsync(running.Token);
            }

            using var ticks = new PeriodicTimer(ScanInterval, time);
            do
            {
                await RenewIfDueAsync(running.Token);
                if (time.GetUtcNow() - _renewingSince >= options.Lease)
                {
                    await TakeOverAsync(running.Token);
                }
            }
            while (await ticks.WaitForNextTickAsync(running.Token));
        }
        catch (OperationCanceledException) when (running.IsCancellationRequested)
        {
        }

        await DrainAsync(stoppingToken);
    }

    private async Task RenewIfDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - _renewed < options.Heartbeat - ScanInterval)
        {
            return;
        }

        try
        {
            await store.RenewLeaseAsync(storage.LeaseHolder, storage.InstanceId, now, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogRenewFailed(e);
            return;
        }

        var lapsed = now - _renewed > options.Lease;
        _renewed = now;
        if (lapsed)
        {
            _renewingSince = now;
            await LetGoOfTakenCallsAsync(cancellationToken);
        }
    }

    /// <summary>After the lease lapsed, ends here every call that another instance has taken over meanwhile.</summary>
    private async Task LetGoOfTakenCallsAsync(CancellationToken cancellationToken)
    {
        var held = await store.HeldCallIdsAsync(storage.LeaseHolder, cancellationToken);
        foreach (var session in sessions.All.Where(s => !held.Contains(s.CallId)))
        {
            LogTakenMeanwhile(session.CallId);
            session.End(CallEndReason.HandedOver);
        }
    }

    private async Task TakeOverAsync(CancellationToken cancellationToken)
    {
        Takeover taken;
        try
        {
            taken = await store.TakeOverAsync(storage.LeaseHolder, time.GetUtcNow() - options.Lease, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogTakeoverFailed(e);
            return;
        }

        if (taken.Calls.Count == 0 && taken.Items.Count == 0)
        {
            return;
        }

        LogTookOver(taken.Calls.Count, taken.Items.Count);
        string[] arriving = [.. taken.Calls.SelectMany(c => c.CallControlId is { } id ? [c.Id, id] : new[] { c.Id })];
        sessions.ExpectArriving(arriving);
        try
        {
            await ResumeAsync(taken, cancellationToken);
        }
        finally
        {
            sessions.StopExpecting(arriving);
        }
    }

    /// <summary>Resumes the taken calls (webhooks for them meanwhile are refused, to be redelivered), then adopts the items.</summary>
    private async Task ResumeAsync(Takeover taken, CancellationToken cancellationToken)
    {
        var resumed = new Dictionary<string, Task<StoredStatus?>>(StringComparer.Ordinal);
        foreach (var call in taken.Calls)
        {
            try
            {
                if (await launcher.ResumeAsync(call, cancellationToken) is { } finished)
                {
                    resumed[call.Id] = finished;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogResumeFailed(call.Id, e);
            }
        }

        await batches.AdoptAsync(taken.Items, resumed, cancellationToken);
    }

    /// <summary>
    /// SIGTERM: live calls go on (the lease still renewed) until they end or DRAIN_SECONDS pass; the rest are handed
    /// over, their turns flushed, and the lease released so the next holder takes them at once.
    /// </summary>
    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + options.Drain;
        try
        {
            while (sessions.Count > 0 && time.GetUtcNow() < deadline)
            {
                var slice = options.Heartbeat < deadline - time.GetUtcNow() ? options.Heartbeat : deadline - time.GetUtcNow();
                await supervisor.WaitForCallsAsync(slice, cancellationToken);
                await RenewIfDueAsync(cancellationToken);
            }

            var handedOver = sessions.Count;
            await supervisor.HandOverAllAsync(cancellationToken);
            await writer.FlushAsync(cancellationToken);
            await store.ReleaseLeaseAsync(storage.LeaseHolder, cancellationToken);
            LogReleased(handedOver);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogReleaseFailed(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Holding lease {Holder}: {LeaseSeconds} s without renewal, {DrainSeconds} s drain on stop")]
    private partial void LogLease(string holder, double leaseSeconds, double drainSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Took over {Calls} live calls and {Items} batch items from lapsed leases")]
    private partial void LogTookOver(int calls, int items);

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId} was taken over but could not be resumed; it stays held here")]
    private partial void LogResumeFailed(string callId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the lease failed; trying again")]
    private partial void LogRenewFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for lapsed leases failed; trying again")]
    private partial void LogTakeoverFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId} was taken over by another instance while this one's lease had lapsed; letting it go")]
    private partial void LogTakenMeanwhile(string callId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: {Calls} live calls handed over, lease released")]
    private partial void LogReleased(int calls);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stopping: the lease could not be released; its calls are taken over once it lapses")]
    private partial void LogReleaseFailed(Exception exception);
}
