namespace TelnyxAiService.Storage;

/// <summary><see cref="ICallEventStore"/> over portable SQL; on PostgreSQL a claim skips rows another instance is claiming.</summary>
internal sealed class SqlCallEventStore(SqlDialect dialect) : ICallEventStore
{
    public async Task<IReadOnlyList<CallEventDelivery>> ClaimDueAsync(int limit, DateTimeOffset now, DateTimeOffset holdUntil, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        var claimed = await connection.ReadAsync(
            $"""
            UPDATE call_event_deliveries SET next_attempt_at = @holdUntil
            WHERE call_id IN (
                SELECT call_id FROM call_event_deliveries WHERE next_attempt_at <= @now
                ORDER BY next_attempt_at, call_id LIMIT @limit {dialect.ClaimLockClause})
            RETURNING call_id, event_id, created_at, attempts
            """,
            r => new CallEventDelivery(r.GetString(0), r.GetString(1), r.Time(2), r.GetInt32(3)),
            transaction,
            cancellationToken,
            ("holdUntil", Sql.Millis(holdUntil)),
            ("now", Sql.Millis(now)),
            ("limit", limit));
        await transaction.CommitAsync(cancellationToken);
        return [.. claimed.OrderBy(d => d.CreatedAt)];
    }

    public async Task RecordFailureAsync(string callId, string error, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await connection.RunAsync(
            """
            UPDATE call_event_deliveries SET attempts = attempts + 1, last_error = @error, next_attempt_at = @next
            WHERE call_id = @callId AND delivered_at IS NULL
            """,
            null,
            cancellationToken,
            ("callId", callId),
            ("error", error),
            ("next", nextAttemptAt is { } next ? Sql.Millis(next) : null));
    }

    public async Task MarkDeliveredAsync(string callId, DateTimeOffset deliveredAt, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await connection.RunAsync(
            """
            UPDATE call_event_deliveries SET attempts = attempts + 1, delivered_at = @now, next_attempt_at = NULL
            WHERE call_id = @callId AND delivered_at IS NULL
            """,
            null,
            cancellationToken,
            ("callId", callId),
            ("now", Sql.Millis(deliveredAt)));
    }

    public async Task ReleaseAsync(string callId, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await connection.RunAsync(
            "UPDATE call_event_deliveries SET next_attempt_at = @dueAt WHERE call_id = @callId AND next_attempt_at IS NOT NULL",
            null,
            cancellationToken,
            ("callId", callId),
            ("dueAt", Sql.Millis(dueAt)));
    }
}
