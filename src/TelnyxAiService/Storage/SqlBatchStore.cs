using System.Data.Common;

namespace TelnyxAiService.Storage;

/// <summary><see cref="IBatchStore"/> over portable SQL, on SQLite or PostgreSQL through <see cref="SqlDialect"/>.</summary>
internal sealed class SqlBatchStore(SqlDialect dialect, TimeProvider time) : IBatchStore
{
    /// <summary>The columns <see cref="ReadItem"/> reads, in its order.</summary>
    public const string ItemColumns = """
        id, batch_id, item_index, phone, name, context, greeting, status, last_outcome, attempts, next_attempt_at,
        last_call_id, claimed_by, claimed_at
        """;

    private static readonly string Pending = StorageText<BatchItemStatus>.Of(BatchItemStatus.Pending);
    private static readonly string Dialing = StorageText<BatchItemStatus>.Of(BatchItemStatus.Dialing);
    private static readonly string Cancelled = StorageText<BatchItemStatus>.Of(BatchItemStatus.Cancelled);

    public static BatchItem ReadItem(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetString(3), r.Text(4), r.Text(5), r.Text(6),
        StorageText<BatchItemStatus>.Parse(r.GetString(7)), r.Text(8) is { } last ? StorageText<BatchItemStatus>.Parse(last) : null,
        r.GetInt32(9), r.Time(10), r.Text(11), r.Text(12), r.OptionalTime(13));

    public async Task CreateBatchAsync(NewBatch batch, CancellationToken cancellationToken)
    {
        var now = Sql.Millis(time.GetUtcNow());
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        await connection.RunAsync("INSERT INTO batches (id, created_at) VALUES (@id, @now)", transaction, cancellationToken, ("id", batch.Id), ("now", now));
        for (var index = 0; index < batch.Items.Count; index++)
        {
            var item = batch.Items[index];
            await connection.RunAsync(
                """
                INSERT INTO batch_items (id, batch_id, item_index, phone, name, context, greeting, status, attempts, next_attempt_at)
                VALUES (@id, @batchId, @index, @phone, @name, @context, @greeting, @pending, 0, @now)
                """,
                transaction,
                cancellationToken,
                ("id", $"{batch.Id}:{index}"),
                ("batchId", batch.Id),
                ("index", index),
                ("phone", item.Phone),
                ("name", item.Name),
                ("context", item.Context),
                ("greeting", item.Greeting),
                ("pending", Pending),
                ("now", now));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<int> CountQueuedItemsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        return (int)await connection.NumberAsync(
            "SELECT COUNT(*) FROM batch_items WHERE status IN (@pending, @dialing)", null, cancellationToken, ("pending", Pending), ("dialing", Dialing));
    }

    public async Task<IReadOnlyList<BatchItem>> ClaimDueItemsAsync(string instanceId, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        var items = await connection.ReadAsync(
            $"""
            UPDATE batch_items SET status = @dialing, attempts = attempts + 1, claimed_by = @instanceId, claimed_at = @now
            WHERE id IN (
                SELECT id FROM batch_items WHERE status = @pending AND next_attempt_at <= @now
                ORDER BY next_attempt_at, batch_id, item_index LIMIT @limit {dialect.ClaimLockClause})
            RETURNING {ItemColumns}
            """,
            ReadItem,
            transaction,
            cancellationToken,
            ("dialing", Dialing),
            ("pending", Pending),
            ("instanceId", instanceId),
            ("now", Sql.Millis(now)),
            ("limit", limit));
        await transaction.CommitAsync(cancellationToken);
        return [.. items.OrderBy(i => i.NextAttemptAt).ThenBy(i => i.BatchId).ThenBy(i => i.Index)];
    }

    public async Task<bool> RecordItemOutcomeAsync(string itemId, BatchItemStatus outcome, DateTimeOffset? retryAt, CancellationToken cancellationToken)
    {
        if (outcome is BatchItemStatus.Pending or BatchItemStatus.Dialing)
        {
            throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "An outcome is a finished attempt.");
        }

        await using var connection = await dialect.OpenAsync(cancellationToken);
        if (retryAt is not { } retry)
        {
            return await connection.RunAsync(
                """
                UPDATE batch_items SET status = @outcome, last_outcome = @outcome, claimed_by = NULL, claimed_at = NULL
                WHERE id = @itemId AND status = @dialing
                """,
                null,
                cancellationToken,
                ("itemId", itemId),
                ("outcome", StorageText<BatchItemStatus>.Of(outcome)),
                ("dialing", Dialing)) == 1;
        }

        return await connection.RunAsync(
            """
            UPDATE batch_items SET last_outcome = @outcome, next_attempt_at = @retryAt, claimed_by = NULL, claimed_at = NULL,
                status = CASE WHEN EXISTS (SELECT 1 FROM batches b WHERE b.id = batch_items.batch_id AND b.cancelled_at IS NOT NULL)
                    THEN @cancelled ELSE @pending END
            WHERE id = @itemId AND status = @dialing
            """,
            null,
            cancellationToken,
            ("itemId", itemId),
            ("outcome", StorageText<BatchItemStatus>.Of(outcome)),
            ("retryAt", Sql.Millis(retry)),
            ("dialing", Dialing),
            ("pending", Pending),
            ("cancelled", Cancelled)) == 1;
    }

    public async Task<bool> CancelBatchAsync(string batchId, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        await connection.RunAsync(
            "UPDATE batches SET cancelled_at = @now WHERE id = @batchId AND cancelled_at IS NULL",
            transaction,
            cancellationToken,
            ("batchId", batchId),
            ("now", Sql.Millis(time.GetUtcNow())));
        var exists = await connection.NumberAsync("SELECT COUNT(*) FROM batches WHERE id = @batchId", transaction, cancellationToken, ("batchId", batchId)) == 1;
        await connection.RunAsync(
            "UPDATE batch_items SET status = @cancelled WHERE batch_id = @batchId AND status = @pending",
            transaction,
            cancellationToken,
            ("batchId", batchId),
            ("cancelled", Cancelled),
            ("pending", Pending));
        await transaction.CommitAsync(cancellationToken);
        return exists;
    }

    public async Task<BatchProgress?> GetBatchProgressAsync(string batchId, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        var batches = await connection.ReadAsync(
            "SELECT created_at, cancelled_at FROM batches WHERE id = @batchId",
            r => (CreatedAt: r.Time(0), CancelledAt: r.OptionalTime(1)),
            null,
            cancellationToken,
            ("batchId", batchId));
        if (batches is not [var batch])
        {
            return null;
        }

        var items = await connection.ReadAsync(
            $"SELECT {ItemColumns} FROM batch_items WHERE batch_id = @batchId ORDER BY item_index", ReadItem, null, cancellationToken, ("batchId", batchId));
        var counts = Enum.GetValues<BatchItemStatus>().ToDictionary(s => s, s => items.Count(i => i.Status == s));
        return new BatchProgress(batchId, batch.CreatedAt, batch.CancelledAt, counts, items);
    }

    public async Task<BatchPage> ListBatchesAsync(int limit, string? cursor, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
        var after = "";
        var parameters = new List<(string, object?)> { ("limit", limit + 1) };
        if (cursor is not null)
        {
            var (createdAt, id) = CallCursor.Parse(cursor);
            after = "WHERE created_at < @cursorCreatedAt OR (created_at = @cursorCreatedAt AND id < @cursorId)";
            parameters.Add(("cursorCreatedAt", createdAt));
            parameters.Add(("cursorId", id));
        }

        await using var connection = await dialect.OpenAsync(cancellationToken);
        var rows = await connection.ReadAsync(
            $"""
            SELECT b.id, b.created_at, b.cancelled_at, i.status, COUNT(i.id)
            FROM (SELECT id, created_at, cancelled_at FROM batches {after} ORDER BY created_at DESC, id DESC LIMIT @limit) b
            LEFT JOIN batch_items i ON i.batch_id = b.id
            GROUP BY b.id, b.created_at, b.cancelled_at, i.status
            """,
            r => (Id: r.GetString(0), CreatedAt: r.Time(1), CancelledAt: r.OptionalTime(2),
                Status: r.Text(3) is { } status ? StorageText<BatchItemStatus>.Parse(status) : (BatchItemStatus?)null, Count: (int)r.GetInt64(4)),
            null,
            cancellationToken,
            [.. parameters]);
        var batches = rows
            .GroupBy(r => (r.Id, r.CreatedAt, r.CancelledAt))
            .Select(g => new BatchSummary(g.Key.Id, g.Key.CreatedAt, g.Key.CancelledAt, Enum.GetValues<BatchItemStatus>().ToDictionary(
                s => s, s => g.Where(r => r.Status == s).Sum(r => r.Count))))
            .OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Id, StringComparer.Ordinal)
            .ToList();
        if (batches.Count <= limit)
        {
            return new BatchPage(batches, null);
        }

        var page = batches.Take(limit).ToList();
        return new BatchPage(page, CallCursor.Format(page[^1].CreatedAt.ToUnixTimeMilliseconds(), page[^1].Id));
    }
}
