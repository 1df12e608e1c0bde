namespace TelnyxAiService.Storage;

/// <summary>
/// Which run of which instance holds the open calls and dialing batch items, and the takeover of what a run whose lease
/// lapsed held (<see cref="Failover.CallLeases"/>).
/// </summary>
public interface ILeaseStore
{
    /// <summary>
    /// Starts <paramref name="holder"/>'s lease, renewed now. Leases of earlier runs of the same
    /// <paramref name="instanceId"/> are dropped: that process is gone, so what it held can be taken over at once.
    /// </summary>
    Task StartLeaseAsync(string holder, string instanceId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Renews the holder's lease (creating it again if it was dropped).</summary>
    Task RenewLeaseAsync(string holder, string instanceId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The open calls the holder holds: after its lease lapsed, the ones not here were taken over.</summary>
    Task<IReadOnlySet<string>> HeldCallIdsAsync(string holder, CancellationToken cancellationToken);

    /// <summary>Ends the holder's lease, so that what it holds can be taken over at once.</summary>
    Task ReleaseLeaseAsync(string holder, CancellationToken cancellationToken);

    /// <summary>
    /// Atomically moves to <paramref name="holder"/> every open call and every dialing batch item whose holder has no
    /// lease renewed at or after <paramref name="expiredBefore"/>. Concurrent takers never get the same row.
    /// </summary>
    Task<Takeover> TakeOverAsync(string holder, DateTimeOffset expiredBefore, CancellationToken cancellationToken);
}

/// <summary>What <see cref="ILeaseStore.TakeOverAsync"/> moved: open calls (oldest first) and dialing items.</summary>
public sealed record Takeover(IReadOnlyList<CallRecord> Calls, IReadOnlyList<BatchItem> Items);
