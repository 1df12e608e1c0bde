using System.Data.Common;
using System.Text;
using TelnyxAiService.CallEvents;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Storage;

/// <summary><see cref="ICallStore"/> over portable SQL, on SQLite or PostgreSQL through <see cref="SqlDialect"/>.</summary>
/// <param name="outbox">Where ended calls are queued for the end-of-call webhook; null (as when only storage is registered): off.</param>
internal sealed class SqlCallStore(SqlDialect dialect, TimeProvider time, CallEventOutbox? outbox = null) : ICallStore
{
    /// <summary>The columns <see cref="ReadCall"/> reads, in its order.</summary>
    public const string CallColumns = """
        id, direction, phone, name, context, greeting, status, instance_id, call_control_id, call_leg_id, call_session_id,
        created_at, dialed_at, answered_at, ended_at, end_reason, hangup_cause, batch_id, batch_item_id, stream_token, stream_format
        """;

    public static CallRecord ReadCall(DbDataReader r) => new(
        r.GetString(0), StorageText<CallDirection>.Parse(r.GetString(1)), r.GetString(2), r.Text(3), r.Text(4), r.Text(5),
        StorageText<CallStatus>.Parse(r.GetString(6)), r.GetString(7), r.Text(8), r.Text(9), r.Text(10), r.Time(11),
        r.OptionalTime(12), r.OptionalTime(13), r.OptionalTime(14), r.Text(15), r.Text(16), r.Text(17), r.Text(18), r.Text(19), r.Text(20));

    public async Task InsertCallAsync(NewCall call, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        await connection.RunAsync(
            """
            INSERT INTO calls (id, direction, phone, name, context, greeting, status, instance_id, created_at, batch_id, batch_item_id,
                stream_token, stream_format)
            VALUES (@id, @direction, @phone, @name, @context, @greeting, @status, @instanceId, @now, @batchId, @batchItemId,
                @streamToken, @streamFormat)
            """,
            transaction,
            cancellationToken,
            ("id", call.Id),
            ("direction", StorageText<CallDirection>.Of(call.Direction)),
            ("phone", call.Phone),
            ("name", call.Name),
            ("context", call.Context),
            ("greeting", call.Greeting),
            ("status", StorageText<CallStatus>.Of(CallStatus.Queued)),
            ("instanceId", call.InstanceId),
            ("now", Now()),
            ("batchId", call.BatchId),
            ("batchItemId", call.BatchItemId),
            ("streamToken", call.StreamToken),
            ("streamFormat", call.StreamFormat));
        if (call.BatchItemId is not null)
        {
            await connection.RunAsync(
                "UPDATE batch_items SET last_call_id = @id WHERE id = @batchItemId", transaction, cancellationToken, ("id", call.Id), ("batchItemId", call.BatchItemId));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task SetDialedAsync(string id, DialResult telnyx, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await connection.RunAsync(
            """
            UPDATE calls SET call_control_id = @callControlId, call_leg_id = @callLegId, call_session_id = @callSessionId,
                dialed_at = @now, status = CASE WHEN status = @queued THEN @dialing ELSE status END
            WHERE id = @id
            """,
            null,
            cancellationToken,
            ("id", id),
            ("callControlId", telnyx.CallControlId),
            ("callLegId", telnyx.CallLegId),
            ("callSessionId", telnyx.CallSessionId),
            ("now", Now()),
            ("queued", StorageText<CallStatus>.Of(CallStatus.Queued)),
            ("dialing", StorageText<CallStatus>.Of(CallStatus.Dialing)));
    }

    public async Task SetAnsweredAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await connection.RunAsync(
            "UPDATE calls SET status = @answered, answered_at = @now WHERE id = @id AND ended_at IS NULL",
            null,
            cancellationToken,
            ("id", id),
            ("answered", StorageText<CallStatus>.Of(CallStatus.Answered)),
            ("now", Now()));
    }

    /// <remarks>
    /// With the end-of-call webhook on, the call's delivery is queued in the same transaction, so an end once stored is
    /// always sent; the sender is then woken.
    /// </remarks>
    public async Task<bool> SetEndedAsync(string id, CallStatus status, string? endReason, string? hangupCause, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        var ended = await connection.RunAsync(
            """
            UPDATE calls SET status = @status, end_reason = @endReason, hangup_cause = @hangupCause, ended_at = @now
            WHERE id = @id AND ended_at IS NULL
            """,
            transaction,
            cancellationToken,
            ("id", id),
            ("status", StorageText<CallStatus>.Of(status)),
            ("endReason", endReason),
            ("hangupCause", hangupCause),
            ("now", now)) == 1;
        var queued = ended && outbox is { Enabled: true };
        if (queued)
        {
            await connection.RunAsync(
                """
                INSERT INTO call_event_deliveries (call_id, event_id, created_at, attempts, next_attempt_at)
                VALUES (@id, @eventId, @now, 0, @now)
                """,
                transaction,
                cancellationToken,
                ("id", id),
                ("eventId", Guid.NewGuid().ToString()),
                ("now", now));
        }

        await transaction.CommitAsync(cancellationToken);
        if (queued)
        {
            outbox!.Wake();
        }

        return ended;
    }

    public async Task<CallRecord?> GetCallAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {CallColumns} FROM calls WHERE id = @id", cancellationToken, ("id", id))).SingleOrDefault();

    public async Task<CallRecord?> FindByCallControlIdAsync(string callControlId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {CallColumns} FROM calls WHERE call_control_id = @callControlId", cancellationToken, ("callControlId", callControlId)))
            .SingleOrDefault();

    public async Task<CallPage> ListCallsAsync(CallQuery query, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, 1000);
        var sql = new StringBuilder($"SELECT {CallColumns} FROM calls WHERE 1 = 1");
        var parameters = new List<(string, object?)>();
        if (query.Status is { } status)
        {
            sql.Append(" AND status = @status");
            parameters.Add(("status", StorageText<CallStatus>.Of(status)));
        }

        if (query.BatchId is not null)
        {
            sql.Append(" AND batch_id = @batchId");
            parameters.Add(("batchId", query.BatchId));
        }

        if (query.Direction is { } direction)
        {
            sql.Append(" AND direction = @direction");
            parameters.Add(("direction", StorageText<CallDirection>.Of(direction)));
        }

        if (query.Phone is not null)
        {
            sql.Append(" AND phone = @phone");
            parameters.Add(("phone", query.Phone));
        }

        if (query.From is { } from)
        {
            sql.Append(" AND created_at >= @from");
            parameters.Add(("from", CeilingMillis(from)));
        }

        if (query.To is { } to)
        {
            sql.Append(" AND created_at < @to");
            parameters.Add(("to", CeilingMillis(to)));
        }

        if (query.Cursor is not null)
        {
            var (createdAt, id) = CallCursor.Parse(query.Cursor);
            sql.Append(" AND (created_at < @cursorCreatedAt OR (created_at = @cursorCreatedAt AND id < @cursorId))");
            parameters.Add(("cursorCreatedAt", createdAt));
            parameters.Add(("cursorId", id));
        }

        sql.Append(" ORDER BY created_at DESC, id DESC LIMIT @limit");
        parameters.Add(("limit", query.Limit + 1));
        var calls = await QueryAsync(sql.ToString(), cancellationToken, [.. parameters]);
        if (calls.Count <= query.Limit)
        {
            return new CallPage(calls, null);
        }

        var page = calls.Take(query.Limit).ToList();
        return new CallPage(page, CallCursor.Format(page[^1].CreatedAt.ToUnixTimeMilliseconds(), page[^1].Id));
    }

    /// <summary>
    /// A bound in whole milliseconds, rounded up: for a stored time t, t ≥ x exactly when t ≥ ⌈x⌉, and t &lt; x when t &lt; ⌈x⌉.
    /// </summary>
    private static long CeilingMillis(DateTimeOffset time)
    {
        var ticks = (time - DateTimeOffset.UnixEpoch).Ticks;
        return (ticks / TimeSpan.TicksPerMillisecond) + (ticks % TimeSpan.TicksPerMillisecond > 0 ? 1 : 0);
    }

    private long Now() => Sql.Millis(time.GetUtcNow());

    private async Task<List<CallRecord>> QueryAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        return await connection.ReadAsync(sql, ReadCall, null, cancellationToken, parameters);
    }
}
