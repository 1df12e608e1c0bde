using TelnyxAiService.Llm;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Calls;

/// <summary>A batch's progress as the API shows it: counts per item status and every item's outcome.</summary>
internal sealed record BatchView(
    string BatchId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CancelledAt,
    int Total,
    bool Finished,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyList<BatchItemView> Items)
{
    public static BatchView Of(BatchProgress progress) => new(
        progress.Id,
        progress.CreatedAt,
        progress.CancelledAt,
        progress.Items.Count,
        IsFinished(progress.Counts),
        CountsOf(progress.Counts),
        [.. progress.Items.Select(BatchItemView.Of)]);

    /// <summary>No item is pending or being dialled.</summary>
    public static bool IsFinished(IReadOnlyDictionary<BatchItemStatus, int> counts) =>
        counts[BatchItemStatus.Pending] + counts[BatchItemStatus.Dialing] == 0;

    public static Dictionary<string, int> CountsOf(IReadOnlyDictionary<BatchItemStatus, int> counts) =>
        counts.ToDictionary(c => StorageText<BatchItemStatus>.Of(c.Key), c => c.Value);
}

/// <summary>A batch in <c>GET /api/call/batch</c>: <see cref="BatchView"/> without the items.</summary>
internal sealed record BatchSummaryView(
    string BatchId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CancelledAt,
    int Total,
    bool Finished,
    IReadOnlyDictionary<string, int> Counts)
{
    public static BatchSummaryView Of(BatchSummary batch) => new(
        batch.Id,
        batch.CreatedAt,
        batch.CancelledAt,
        batch.Counts.Values.Sum(),
        BatchView.IsFinished(batch.Counts),
        BatchView.CountsOf(batch.Counts));
}

/// <summary><c>GET /api/call/batch</c>: one page of batches, newest first, and the cursor of the next (omitted on the last page).</summary>
internal sealed record BatchList(IReadOnlyList<BatchSummaryView> Batches, string? NextCursor);

internal sealed record BatchItemView(
    int Index,
    string Phone,
    string? Name,
    string Status,
    string? LastOutcome,
    int Attempts,
    DateTimeOffset? NextAttemptAt,
    string? CallId)
{
    public static BatchItemView Of(BatchItem item) => new(
        item.Index,
        item.Phone,
        item.Name,
        StorageText<BatchItemStatus>.Of(item.Status),
        item.LastOutcome is { } outcome ? StorageText<BatchItemStatus>.Of(outcome) : null,
        item.Attempts,
        item.Status == BatchItemStatus.Pending ? item.NextAttemptAt : null,
        item.LastCallId);
}

internal sealed record CallView(
    string CallId,
    string Direction,
    string Phone,
    string? Name,
    string? Context,
    string? Greeting,
    string Status,
    string InstanceId,
    string? CallControlId,
    string? CallLegId,
    string? CallSessionId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DialedAt,
    DateTimeOffset? AnsweredAt,
    DateTimeOffset? EndedAt,
    string? EndReason,
    string? HangupCause,
    string? BatchId)
{
    public static CallView Of(CallRecord call) => new(
        call.Id,
        StorageText<CallDirection>.Of(call.Direction),
        call.Phone,
        call.Name,
        call.Context,
        call.Greeting,
        StorageText<CallStatus>.Of(call.Status),
        StorageOptions.InstanceOf(call.InstanceId),
        call.CallControlId,
        call.CallLegId,
        call.CallSessionId,
        call.CreatedAt,
        call.DialedAt,
        call.AnsweredAt,
        call.EndedAt,
        call.EndReason,
        call.HangupCause,
        call.BatchId);
}

/// <summary><c>GET /api/calls</c>: one page of calls and the cursor of the next (omitted on the last page).</summary>
internal sealed record CallList(IReadOnlyList<CallView> Calls, string? NextCursor);

/// <summary><c>GET /api/calls/{id}</c>: the call, its transcript and its webhook events.</summary>
internal sealed record CallDetail(CallView Call, IReadOnlyList<TurnView> Transcript, IReadOnlyList<EventView> Events);

internal sealed record TurnView(int Seq, string Speaker, string Text, DateTimeOffset StartedAt, DateTimeOffset EndedAt, bool Interrupted, TurnLatency Latency)
{
    public static TurnView Of(TurnRecord turn) =>
        new(turn.Seq, StorageText<Speaker>.Of(turn.Speaker), turn.Text, turn.StartedAt, turn.EndedAt, turn.Interrupted, turn.Latency);
}

internal sealed record EventView(string EventId, string EventType, DateTimeOffset ReceivedAt)
{
    public static EventView Of(CallEvent callEvent) => new(callEvent.EventId, callEvent.EventType, callEvent.ReceivedAt);
}
