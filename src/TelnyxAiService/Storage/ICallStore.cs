using TelnyxAiService.Telephony;

namespace TelnyxAiService.Storage;

/// <summary>
/// Durable calls, turns, webhook events and batches (SQLite or PostgreSQL). Every method is one short transaction;
/// timestamps of state changes come from the store's <see cref="TimeProvider"/>. Turns and events that need no answer go
/// through <see cref="CallStoreWriter"/> so the audio path never waits for the database.
/// </summary>
public interface ICallStore
{
    /// <summary>Stores a call before it is dialled. With a batch item id, also sets that item's last call id.</summary>
    Task InsertCallAsync(NewCall call, CancellationToken cancellationToken);

    /// <summary>Records the Telnyx ids of a placed call; status becomes <see cref="CallStatus.Dialing"/>.</summary>
    Task SetDialedAsync(string id, DialResult telnyx, CancellationToken cancellationToken);

    /// <summary>Status becomes <see cref="CallStatus.Answered"/> unless the call has already ended.</summary>
    Task SetAnsweredAsync(string id, CancellationToken cancellationToken);

    /// <summary>Closes the call; the first end wins. Returns false when it had already ended (or does not exist).</summary>
    Task<bool> SetEndedAsync(string id, CallStatus status, string? endReason, string? hangupCause, CancellationToken cancellationToken);

    Task<CallRecord?> GetCallAsync(string id, CancellationToken cancellationToken);

    Task<CallRecord?> FindByCallControlIdAsync(string callControlId, CancellationToken cancellationToken);

    /// <summary>Newest first, keyset paged.</summary>
    /// <exception cref="InvalidCursorException">The cursor was not produced by this store.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The limit is not 1 to 1000.</exception>
    Task<CallPage> ListCallsAsync(CallQuery query, CancellationToken cancellationToken);

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

    /// <summary>Stores a finished turn; a repeat of the same (call, seq) is ignored, so a retried write is harmless.</summary>
    Task AppendTurnAsync(TurnRecord turn, CancellationToken cancellationToken);

    /// <summary>The call's turns in order.</summary>
    Task<IReadOnlyList<TurnRecord>> GetTurnsAsync(string callId, CancellationToken cancellationToken);

    /// <summary>Records a webhook event; false when its id was recorded before (by any instance, before any restart).</summary>
    Task<bool> TryRecordEventAsync(CallEvent callEvent, CancellationToken cancellationToken);

    /// <summary>Forgets a recorded event id, so that a redelivery of an event that could not be handled is taken again.</summary>
    Task ForgetEventAsync(string eventId, CancellationToken cancellationToken);

    /// <summary>The call's events in the order they were received.</summary>
    Task<IReadOnlyList<CallEvent>> GetEventsAsync(string callId, CancellationToken cancellationToken);

    /// <summary>Stores the batch and all its items (status pending, due now) in one transaction.</summary>
    Task CreateBatchAsync(NewBatch batch, CancellationToken cancellationToken);

    /// <summary>Items of all batches still to be dialled or being dialled (the cap on queued numbers).</summary>
    Task<int> CountQueuedItemsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Atomically moves up to <paramref name="limit"/> pending items due at <paramref name="now"/> to dialing, counts an
    /// attempt and marks them claimed by <paramref name="instanceId"/>. Concurrent claimers never get the same item.
    /// </summary>
    Task<IReadOnlyList<BatchItem>> ClaimDueItemsAsync(string instanceId, int limit, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Records how a dialing item's attempt ended. With <paramref name="retryAt"/> the item goes back to pending, due then
    /// (or to cancelled if its batch was cancelled meanwhile); without, <paramref name="outcome"/> is final.
    /// Returns false when the item was not dialing.
    /// </summary>
    Task<bool> RecordItemOutcomeAsync(string itemId, BatchItemStatus outcome, DateTimeOffset? retryAt, CancellationToken cancellationToken);

    /// <summary>Cancels the batch's pending items; items being dialled finish. False when the batch does not exist.</summary>
    Task<bool> CancelBatchAsync(string batchId, CancellationToken cancellationToken);

    Task<BatchProgress?> GetBatchProgressAsync(string batchId, CancellationToken cancellationToken);

    /// <summary>Whether the database answers a cheap query within a couple of seconds (for health).</summary>
    Task<bool> ReachableAsync(CancellationToken cancellationToken);
}

/// <summary>What <see cref="ICallStore.TakeOverAsync"/> moved: open calls (oldest first) and dialing items.</summary>
public sealed record Takeover(IReadOnlyList<CallRecord> Calls, IReadOnlyList<BatchItem> Items);
