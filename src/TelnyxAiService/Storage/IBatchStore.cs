namespace TelnyxAiService.Storage;

/// <summary>
/// Batches of numbers to dial and their items' attempts. Claims are atomic, so several instances sharing one database
/// never dial the same item.
/// </summary>
public interface IBatchStore
{
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

    /// <summary>Batches with their counts, newest first, keyset paged like <see cref="ICallStore.ListCallsAsync"/>.</summary>
    /// <param name="cursor">The <see cref="BatchPage.NextCursor"/> of the previous page, or null for the first page.</param>
    /// <exception cref="InvalidCursorException">The cursor was not produced by this store.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The limit is not 1 to 1000.</exception>
    Task<BatchPage> ListBatchesAsync(int limit, string? cursor, CancellationToken cancellationToken);
}
