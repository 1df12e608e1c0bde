namespace TelnyxAiService.Storage;

/// <summary><see cref="IWebhookEventStore"/> over portable SQL, on SQLite or PostgreSQL through <see cref="SqlDialect"/>.</summary>
internal sealed class SqlWebhookEventStore(SqlDialect dialect) : IWebhookEventStore
{
    public async Task<bool> TryRecordEventAsync(CallEvent callEvent, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        return await connection.RunAsync(
            """
            INSERT INTO call_events (event_id, call_id, event_type, received_at) VALUES (@eventId, @callId, @eventType, @receivedAt)
            ON CONFLICT (event_id) DO NOTHING
            """,
            null,
            cancellationToken,
            ("eventId", callEvent.EventId),
            ("callId", callEvent.CallId),
            ("eventType", callEvent.EventType),
            ("receivedAt", Sql.Millis(callEvent.ReceivedAt))) == 1;
    }

    public async Task ForgetEventAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await connection.RunAsync("DELETE FROM call_events WHERE event_id = @eventId", null, cancellationToken, ("eventId", eventId));
    }

    public async Task<IReadOnlyList<CallEvent>> GetEventsAsync(string callId, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        return await connection.ReadAsync(
            "SELECT event_id, call_id, event_type, received_at FROM call_events WHERE call_id = @callId ORDER BY received_at, event_id",
            r => new CallEvent(r.GetString(0), r.Text(1), r.GetString(2), r.Time(3)),
            null,
            cancellationToken,
            ("callId", callId));
    }
}
