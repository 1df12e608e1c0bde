namespace TelnyxAiService.Storage;

/// <summary>Stored as snake_case text (<c>no_answer</c>).</summary>
public enum BatchItemStatus
{
    Pending,
    Dialing,
    Completed,
    Failed,
    Busy,
    NoAnswer,
    Cancelled,
}

public sealed record NewBatchItem(string Phone, string? Name = null, string? Context = null, string? Greeting = null);

/// <summary>A batch whose items are all due at once when it is created.</summary>
public sealed record NewBatch(string Id, IReadOnlyList<NewBatchItem> Items);

/// <param name="Id">The store's item id: <c>{batch id}:{index}</c>.</param>
/// <param name="Attempts">Dial attempts started so far (a claim counts one).</param>
/// <param name="LastOutcome">The outcome of the last finished attempt, kept while the item waits for a retry.</param>
/// <param name="LastCallId">Our call id of the latest attempt (set by <see cref="ICallStore.InsertCallAsync"/>).</param>
public sealed record BatchItem(
    string Id,
    string BatchId,
    int Index,
    string Phone,
    string? Name,
    string? Context,
    string? Greeting,
    BatchItemStatus Status,
    BatchItemStatus? LastOutcome,
    int Attempts,
    DateTimeOffset NextAttemptAt,
    string? LastCallId,
    string? ClaimedBy,
    DateTimeOffset? ClaimedAt);

/// <param name="Counts">Items per status; every status is present.</param>
/// <param name="Items">Every item, in index order.</param>
public sealed record BatchProgress(
    string Id,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CancelledAt,
    IReadOnlyDictionary<BatchItemStatus, int> Counts,
    IReadOnlyList<BatchItem> Items);

/// <summary>A batch without its items, for <see cref="IBatchStore.ListBatchesAsync"/>.</summary>
/// <param name="Counts">Items per status; every status is present.</param>
public sealed record BatchSummary(string Id, DateTimeOffset CreatedAt, DateTimeOffset? CancelledAt, IReadOnlyDictionary<BatchItemStatus, int> Counts);

/// <param name="NextCursor">Opaque; null on the last page.</param>
public sealed record BatchPage(IReadOnlyList<BatchSummary> Batches, string? NextCursor);
