using System.Globalization;

namespace TelnyxAiService.Storage;

/// <summary><see cref="ILeaseStore"/> over portable SQL, on SQLite or PostgreSQL through <see cref="SqlDialect"/>.</summary>
internal sealed class SqlLeaseStore(SqlDialect dialect) : ILeaseStore
{
    /// <summary>The row's holder ({0}) has no lease renewed at or after <c>@expiredBefore</c>.</summary>
    private const string Lapsed = "{0} IS NULL OR NOT EXISTS (SELECT 1 FROM leases l WHERE l.holder = {0} AND l.renewed_at >= @expiredBefore)";

    public async Task StartLeaseAsync(string holder, string instanceId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        await connection.RunAsync(
            "DELETE FROM leases WHERE instance_id = @instanceId OR holder = @holder", transaction, cancellationToken, ("holder", holder), ("instanceId", instanceId));
        await connection.RunAsync(
            "INSERT INTO leases (holder, instance_id, renewed_at) VALUES (@holder, @instanceId, @now)",
            transaction,
            cancellationToken,
            ("holder", holder),
            ("instanceId", instanceId),
            ("now", Sql.Millis(now)));
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task RenewLeaseAsync(string holder, string instanceId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await connection.RunAsync(
            """
            INSERT INTO leases (holder, instance_id, renewed_at) VALUES (@holder, @instanceId, @now)
            ON CONFLICT (holder) DO UPDATE SET renewed_at = excluded.renewed_at
            """,
            null,
            cancellationToken,
            ("holder", holder),
            ("instanceId", instanceId),
            ("now", Sql.Millis(now)));
    }

    public async Task<IReadOnlySet<string>> HeldCallIdsAsync(string holder, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        var ids = await connection.ReadAsync(
            "SELECT id FROM calls WHERE ended_at IS NULL AND instance_id = @holder", r => r.GetString(0), null, cancellationToken, ("holder", holder));
        return ids.ToHashSet(StringComparer.Ordinal);
    }

    public async Task ReleaseLeaseAsync(string holder, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await connection.RunAsync("DELETE FROM leases WHERE holder = @holder", null, cancellationToken, ("holder", holder));
    }

    public async Task<Takeover> TakeOverAsync(string holder, DateTimeOffset expiredBefore, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        var calls = await connection.ReadAsync(
            $"""
            UPDATE calls SET instance_id = @holder
            WHERE id IN (
                SELECT id FROM calls WHERE ended_at IS NULL AND instance_id <> @holder
                AND ({string.Format(CultureInfo.InvariantCulture, Lapsed, "calls.instance_id")}) {dialect.ClaimLockClause})
            RETURNING {SqlCallStore.CallColumns}
            """,
            SqlCallStore.ReadCall,
            transaction,
            cancellationToken,
            ("holder", holder),
            ("expiredBefore", Sql.Millis(expiredBefore)));
        var items = await connection.ReadAsync(
            $"""
            UPDATE batch_items SET claimed_by = @holder
            WHERE id IN (
                SELECT id FROM batch_items WHERE status = @dialing AND (claimed_by IS NULL OR claimed_by <> @holder)
                AND ({string.Format(CultureInfo.InvariantCulture, Lapsed, "batch_items.claimed_by")}) {dialect.ClaimLockClause})
            RETURNING {SqlBatchStore.ItemColumns}
            """,
            SqlBatchStore.ReadItem,
            transaction,
            cancellationToken,
            ("holder", holder),
            ("expiredBefore", Sql.Millis(expiredBefore)),
            ("dialing", StorageText<BatchItemStatus>.Of(BatchItemStatus.Dialing)));
        await transaction.CommitAsync(cancellationToken);
        return new Takeover(
            [.. calls.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id, StringComparer.Ordinal)],
            [.. items.OrderBy(i => i.BatchId, StringComparer.Ordinal).ThenBy(i => i.Index)]);
    }
}
