using System.Data.Common;
using System.Text;
using Dapper;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Storage;

/// <summary>
/// <see cref="ICallStore"/> over portable SQL with Dapper. The dialects differ only in how a connection is opened,
/// how migrations are serialised and how claimed rows are locked (<see cref="SqliteCallStore"/>,
/// <see cref="PostgresCallStore"/>).
/// </summary>
internal abstract class SqlCallStore(TimeProvider time) : ICallStore, IAsyncDisposable
{
    private const string CallColumns = """
        id, direction, phone, name, context, greeting, status, instance_id, call_control_id, call_leg_id, call_session_id,
        created_at, dialed_at, answered_at, ended_at, end_reason, hangup_cause, batch_id, batch_item_id, stream_token, stream_format
        """;

    private const string ItemColumns = """
        id, batch_id, item_index, phone, name, context, greeting, status, last_outcome, attempts, next_attempt_at,
        last_call_id, claimed_by, claimed_at
        """;

    static SqlCallStore() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public static SqlCallStore Create(StorageOptions options, TimeProvider time) => options.Provider switch
    {
        StorageProvider.Sqlite => new SqliteCallStore(options, time),
        _ => new PostgresCallStore(options, time),
    };

    public abstract StorageProvider Provider { get; }

    /// <summary>An open connection with the dialect's session settings applied.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>A write transaction that takes the database's write lock at once (SQLite: BEGIN IMMEDIATE).</summary>
    protected abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Appended to the claim's row selection: <c>FOR UPDATE SKIP LOCKED</c> on PostgreSQL.</summary>
    protected abstract string ClaimLockClause { get; }

    /// <summary>Takes a lock that serialises migrations across processes, inside <paramref name="transaction"/>.</summary>
    protected abstract Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>Applies the migrations this database has not seen; safe to run again and from several instances at once.</summary>
    /// <returns>The versions applied now.</returns>
    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        await LockForMigrationAsync(connection, transaction, cancellationToken);
        await Run(connection, StorageMigrations.CreateMigrationsTable, null, transaction, cancellationToken);
        var applied = (await connection.QueryAsync<int>(new CommandDefinition(
            "SELECT version FROM schema_migrations", transaction: transaction, cancellationToken: cancellationToken))).ToHashSet();
        var now = Now();
        var versions = new List<int>();
        foreach (var migration in StorageMigrations.All.Where(m => !applied.Contains(m.Version)))
        {
            if (migration.For(Provider) is { } sql)
            {
                await Run(connection, sql, null, transaction, cancellationToken);
            }

            await Run(connection, "INSERT INTO schema_migrations (version, applied_at) VALUES (@Version, @now)", new { migration.Version, now }, transaction, cancellationToken);
            versions.Add(migration.Version);
        }

        await transaction.CommitAsync(cancellationToken);
        return versions;
    }

    /// <remarks>Reads a table rather than <c>SELECT 1</c>, which SQLite answers without touching the file.</remarks>
    public async Task<bool> ReachableAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), time);
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await using var connection = await OpenAsync(probe.Token);
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT COUNT(*) FROM schema_migrations", cancellationToken: probe.Token));
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public async Task InsertCallAsync(NewCall call, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        await Run(connection, $"""
            INSERT INTO calls (id, direction, phone, name, context, greeting, status, instance_id, created_at, batch_id, batch_item_id,
                stream_token, stream_format)
            VALUES (@Id, @direction, @Phone, @Name, @Context, @Greeting, @status, @InstanceId, @now, @BatchId, @BatchItemId,
                @StreamToken, @StreamFormat)
            """,
            new
            {
                call.Id,
                direction = StorageText<CallDirection>.Of(call.Direction),
                call.Phone,
                call.Name,
                call.Context,
                call.Greeting,
                status = StorageText<CallStatus>.Of(CallStatus.Queued),
                call.InstanceId,
                now = Now(),
                call.BatchId,
                call.BatchItemId,
                call.StreamToken,
                call.StreamFormat,
            },
            transaction,
            cancellationToken);
        if (call.BatchItemId is not null)
        {
            await Run(connection, "UPDATE batch_items SET last_call_id = @Id WHERE id = @BatchItemId", new { call.Id, call.BatchItemId }, transaction, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task SetDialedAsync(string id, DialResult telnyx, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await Run(connection, """
            UPDATE calls SET call_control_id = @CallControlId, call_leg_id = @CallLegId, call_session_id = @CallSessionId,
                dialed_at = @now, status = CASE WHEN status = @queued THEN @dialing ELSE status END
            WHERE id = @id
            """,
            new
            {
                id,
                telnyx.CallControlId,
                telnyx.CallLegId,
                telnyx.CallSessionId,
                now = Now(),
                queued = StorageText<CallStatus>.Of(CallStatus.Queued),
                dialing = StorageText<CallStatus>.Of(CallStatus.Dialing),
            },
            null,
            cancellationToken);
    }

    public async Task SetAnsweredAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await Run(connection, "UPDATE calls SET status = @answered, answered_at = @now WHERE id = @id AND ended_at IS NULL",
            new { id, answered = StorageText<CallStatus>.Of(CallStatus.Answered), now = Now() }, null, cancellationToken);
    }

    public async Task<bool> SetEndedAsync(string id, CallStatus status, string? endReason, string? hangupCause, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await Run(connection, """
            UPDATE calls SET status = @status, end_reason = @endReason, hangup_cause = @hangupCause, ended_at = @now
            WHERE id = @id AND ended_at IS NULL
            """,
            new { id, status = StorageText<CallStatus>.Of(status), endReason, hangupCause, now = Now() },
            null,
            cancellationToken) == 1;
    }

    public async Task<CallRecord?> GetCallAsync(string id, CancellationToken cancellationToken) =>
        (await QueryCalls($"SELECT {CallColumns} FROM calls WHERE id = @id", new { id }, cancellationToken)).SingleOrDefault();

    public async Task<CallRecord?> FindByCallControlIdAsync(string callControlId, CancellationToken cancellationToken) =>
        (await QueryCalls($"SELECT {CallColumns} FROM calls WHERE call_control_id = @callControlId", new { callControlId }, cancellationToken)).SingleOrDefault();

    public async Task<CallPage> ListCallsAsync(CallQuery query, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, 1000);
        var sql = new StringBuilder($"SELECT {CallColumns} FROM calls WHERE 1 = 1");
        var parameters = new DynamicParameters();
        if (query.Status is { } status)
        {
            sql.Append(" AND status = @status");
            parameters.Add("status", StorageText<CallStatus>.Of(status));
        }

        if (query.BatchId is not null)
        {
            sql.Append(" AND batch_id = @batchId");
            parameters.Add("batchId", query.BatchId);
        }

        if (query.Cursor is not null)
        {
            var (createdAt, id) = CallCursor.Parse(query.Cursor);
            sql.Append(" AND (created_at < @cursorCreatedAt OR (created_at = @cursorCreatedAt AND id < @cursorId))");
            parameters.Add("cursorCreatedAt", createdAt);
            parameters.Add("cursorId", id);
        }

        sql.Append(" ORDER BY created_at DESC, id DESC LIMIT @limit");
        parameters.Add("limit", query.Limit + 1);
        var calls = await QueryCalls(sql.ToString(), parameters, cancellationToken);
        if (calls.Count <= query.Limit)
        {
            return new CallPage(calls, null);
        }

        var page = calls.Take(query.Limit).ToList();
        return new CallPage(page, CallCursor.Format(page[^1].CreatedAt.ToUnixTimeMilliseconds(), page[^1].Id));
    }

    public async Task StartLeaseAsync(string holder, string instanceId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        await Run(connection, "DELETE FROM leases WHERE instance_id = @instanceId OR holder = @holder", new { holder, instanceId }, transaction, cancellationToken);
        await Run(connection, "INSERT INTO leases (holder, instance_id, renewed_at) VALUES (@holder, @instanceId, @now)",
            new { holder, instanceId, now = now.ToUnixTimeMilliseconds() }, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task RenewLeaseAsync(string holder, string instanceId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await Run(connection, """
            INSERT INTO leases (holder, instance_id, renewed_at) VALUES (@holder, @instanceId, @now)
            ON CONFLICT (holder) DO UPDATE SET renewed_at = excluded.renewed_at
            """,
            new { holder, instanceId, now = now.ToUnixTimeMilliseconds() }, null, cancellationToken);
    }

    public async Task<IReadOnlySet<string>> HeldCallIdsAsync(string holder, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM calls WHERE ended_at IS NULL AND instance_id = @holder", new { holder }, cancellationToken: cancellationToken));
        return ids.ToHashSet(StringComparer.Ordinal);
    }

    public async Task ReleaseLeaseAsync(string holder, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await Run(connection, "DELETE FROM leases WHERE holder = @holder", new { holder }, null, cancellationToken);
    }

    public async Task<Takeover> TakeOverAsync(string holder, DateTimeOffset expiredBefore, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            holder,
            expiredBefore = expiredBefore.ToUnixTimeMilliseconds(),
            dialing = StorageText<BatchItemStatus>.Of(BatchItemStatus.Dialing),
        };
        const string Lapsed = """
            {0} IS NULL OR NOT EXISTS (SELECT 1 FROM leases l WHERE l.holder = {0} AND l.renewed_at >= @expiredBefore)
            """;
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        var calls = await connection.QueryAsync<CallRow>(new CommandDefinition($"""
            UPDATE calls SET instance_id = @holder
            WHERE id IN (
                SELECT id FROM calls WHERE ended_at IS NULL AND instance_id <> @holder
                AND ({string.Format(System.Globalization.CultureInfo.InvariantCulture, Lapsed, "calls.instance_id")}) {ClaimLockClause})
            RETURNING {CallColumns}
            """,
            parameters,
            transaction,
            cancellationToken: cancellationToken));
        var items = await connection.QueryAsync<ItemRow>(new CommandDefinition($"""
            UPDATE batch_items SET claimed_by = @holder
            WHERE id IN (
                SELECT id FROM batch_items WHERE status = @dialing AND (claimed_by IS NULL OR claimed_by <> @holder)
                AND ({string.Format(System.Globalization.CultureInfo.InvariantCulture, Lapsed, "batch_items.claimed_by")}) {ClaimLockClause})
            RETURNING {ItemColumns}
            """,
            parameters,
            transaction,
            cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return new Takeover(
            [.. calls.Select(r => r.ToRecord()).OrderBy(c => c.CreatedAt).ThenBy(c => c.Id, StringComparer.Ordinal)],
            [.. items.Select(r => r.ToRecord()).OrderBy(i => i.BatchId, StringComparer.Ordinal).ThenBy(i => i.Index)]);
    }

    public async Task AppendTurnAsync(TurnRecord turn, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var latency = turn.Latency;
        await Run(connection, """
            INSERT INTO turns (call_id, seq, speaker, text, started_at, ended_at, interrupted,
                end_of_speech_to_decision_ms, decision_to_first_token_ms, first_token_to_first_sentence_ms,
                sentence_to_tts_first_byte_ms, tts_first_byte_to_first_frame_ms, voice_to_voice_ms)
            VALUES (@CallId, @Seq, @speaker, @Text, @startedAt, @endedAt, @Interrupted,
                @EndOfSpeechToDecision, @DecisionToFirstToken, @FirstTokenToFirstSentence,
                @SentenceToTtsFirstByte, @TtsFirstByteToFirstFrame, @VoiceToVoice)
            ON CONFLICT (call_id, seq) DO NOTHING
            """,
            new
            {
                turn.CallId,
                turn.Seq,
                speaker = StorageText<Speaker>.Of(turn.Speaker),
                turn.Text,
                startedAt = turn.StartedAt.ToUnixTimeMilliseconds(),
                endedAt = turn.EndedAt.ToUnixTimeMilliseconds(),
                turn.Interrupted,
                latency.EndOfSpeechToDecision,
                latency.DecisionToFirstToken,
                latency.FirstTokenToFirstSentence,
                latency.SentenceToTtsFirstByte,
                latency.TtsFirstByteToFirstFrame,
                latency.VoiceToVoice,
            },
            null,
            cancellationToken);
    }

    public async Task<IReadOnlyList<TurnRecord>> GetTurnsAsync(string callId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<TurnRow>(new CommandDefinition(
            "SELECT * FROM turns WHERE call_id = @callId ORDER BY seq", new { callId }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task<bool> TryRecordEventAsync(CallEvent callEvent, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await Run(connection, """
            INSERT INTO call_events (event_id, call_id, event_type, received_at) VALUES (@EventId, @CallId, @EventType, @receivedAt)
            ON CONFLICT (event_id) DO NOTHING
            """,
            new { callEvent.EventId, callEvent.CallId, callEvent.EventType, receivedAt = callEvent.ReceivedAt.ToUnixTimeMilliseconds() },
            null,
            cancellationToken) == 1;
    }

    public async Task ForgetEventAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await Run(connection, "DELETE FROM call_events WHERE event_id = @eventId", new { eventId }, null, cancellationToken);
    }

    public async Task<IReadOnlyList<CallEvent>> GetEventsAsync(string callId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<EventRow>(new CommandDefinition(
            "SELECT * FROM call_events WHERE call_id = @callId ORDER BY received_at, event_id", new { callId }, cancellationToken: cancellationToken));
        return rows.Select(r => new CallEvent(r.EventId, r.CallId, r.EventType, DateTimeOffset.FromUnixTimeMilliseconds(r.ReceivedAt))).ToList();
    }

    public async Task CreateBatchAsync(NewBatch batch, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        await Run(connection, "INSERT INTO batches (id, created_at) VALUES (@Id, @now)", new { batch.Id, now }, transaction, cancellationToken);
        var pending = StorageText<BatchItemStatus>.Of(BatchItemStatus.Pending);
        await Run(connection, """
            INSERT INTO batch_items (id, batch_id, item_index, phone, name, context, greeting, status, attempts, next_attempt_at)
            VALUES (@id, @batchId, @index, @Phone, @Name, @Context, @Greeting, @pending, 0, @now)
            """,
            batch.Items.Select((item, index) => new
            {
                id = $"{batch.Id}:{index}",
                batchId = batch.Id,
                index,
                item.Phone,
                item.Name,
                item.Context,
                item.Greeting,
                pending,
                now,
            }),
            transaction,
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<int> CountQueuedItemsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COUNT(*) FROM batch_items WHERE status IN (@pending, @dialing)",
            new { pending = StorageText<BatchItemStatus>.Of(BatchItemStatus.Pending), dialing = StorageText<BatchItemStatus>.Of(BatchItemStatus.Dialing) },
            cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<BatchItem>> ClaimDueItemsAsync(string instanceId, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        var rows = await connection.QueryAsync<ItemRow>(new CommandDefinition($"""
            UPDATE batch_items SET status = @dialing, attempts = attempts + 1, claimed_by = @instanceId, claimed_at = @now
            WHERE id IN (
                SELECT id FROM batch_items WHERE status = @pending AND next_attempt_at <= @now
                ORDER BY next_attempt_at, batch_id, item_index LIMIT @limit {ClaimLockClause})
            RETURNING {ItemColumns}
            """,
            new
            {
                dialing = StorageText<BatchItemStatus>.Of(BatchItemStatus.Dialing),
                pending = StorageText<BatchItemStatus>.Of(BatchItemStatus.Pending),
                instanceId,
                now = now.ToUnixTimeMilliseconds(),
                limit,
            },
            transaction,
            cancellationToken: cancellationToken));
        var items = rows.Select(r => r.ToRecord()).OrderBy(i => i.NextAttemptAt).ThenBy(i => i.BatchId).ThenBy(i => i.Index).ToList();
        await transaction.CommitAsync(cancellationToken);
        return items;
    }

    public async Task<bool> RecordItemOutcomeAsync(string itemId, BatchItemStatus outcome, DateTimeOffset? retryAt, CancellationToken cancellationToken)
    {
        if (outcome is BatchItemStatus.Pending or BatchItemStatus.Dialing)
        {
            throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "An outcome is a finished attempt.");
        }

        var parameters = new
        {
            itemId,
            outcome = StorageText<BatchItemStatus>.Of(outcome),
            retryAt = retryAt?.ToUnixTimeMilliseconds(),
            dialing = StorageText<BatchItemStatus>.Of(BatchItemStatus.Dialing),
            pending = StorageText<BatchItemStatus>.Of(BatchItemStatus.Pending),
            cancelled = StorageText<BatchItemStatus>.Of(BatchItemStatus.Cancelled),
        };
        var sql = retryAt is null
            ? """
              UPDATE batch_items SET status = @outcome, last_outcome = @outcome, claimed_by = NULL, claimed_at = NULL
              WHERE id = @itemId AND status = @dialing
              """
            : """
              UPDATE batch_items SET last_outcome = @outcome, next_attempt_at = @retryAt, claimed_by = NULL, claimed_at = NULL,
                  status = CASE WHEN EXISTS (SELECT 1 FROM batches b WHERE b.id = batch_items.batch_id AND b.cancelled_at IS NOT NULL)
                      THEN @cancelled ELSE @pending END
              WHERE id = @itemId AND status = @dialing
              """;
        await using var connection = await OpenAsync(cancellationToken);
        return await Run(connection, sql, parameters, null, cancellationToken) == 1;
    }

    public async Task<bool> CancelBatchAsync(string batchId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        var now = Now();
        await Run(connection, "UPDATE batches SET cancelled_at = @now WHERE id = @batchId AND cancelled_at IS NULL", new { batchId, now }, transaction, cancellationToken);
        var exists = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COUNT(*) FROM batches WHERE id = @batchId", new { batchId }, transaction, cancellationToken: cancellationToken)) == 1;
        await Run(connection, "UPDATE batch_items SET status = @cancelled WHERE batch_id = @batchId AND status = @pending",
            new
            {
                batchId,
                cancelled = StorageText<BatchItemStatus>.Of(BatchItemStatus.Cancelled),
                pending = StorageText<BatchItemStatus>.Of(BatchItemStatus.Pending),
            },
            transaction,
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return exists;
    }

    public async Task<BatchProgress?> GetBatchProgressAsync(string batchId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var batch = await connection.QuerySingleOrDefaultAsync<BatchRow>(new CommandDefinition(
            "SELECT id, created_at, cancelled_at FROM batches WHERE id = @batchId", new { batchId }, cancellationToken: cancellationToken));
        if (batch is null)
        {
            return null;
        }

        var items = (await connection.QueryAsync<ItemRow>(new CommandDefinition(
            $"SELECT {ItemColumns} FROM batch_items WHERE batch_id = @batchId ORDER BY item_index", new { batchId }, cancellationToken: cancellationToken)))
            .Select(r => r.ToRecord()).ToList();
        var counts = Enum.GetValues<BatchItemStatus>().ToDictionary(s => s, s => items.Count(i => i.Status == s));
        return new BatchProgress(
            batch.Id,
            DateTimeOffset.FromUnixTimeMilliseconds(batch.CreatedAt),
            batch.CancelledAt is { } cancelled ? DateTimeOffset.FromUnixTimeMilliseconds(cancelled) : null,
            counts,
            items);
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private static Task<int> Run(DbConnection connection, string sql, object? parameters, DbTransaction? transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken));

    private async Task<IReadOnlyList<CallRecord>> QueryCalls(string sql, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<CallRow>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    private static DateTimeOffset? Time(long? epochMilliseconds) =>
        epochMilliseconds is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    private sealed class CallRow
    {
        public string Id { get; set; } = "";
        public string Direction { get; set; } = "";
        public string Phone { get; set; } = "";
        public string? Name { get; set; }
        public string? Context { get; set; }
        public string? Greeting { get; set; }
        public string Status { get; set; } = "";
        public string InstanceId { get; set; } = "";
        public string? CallControlId { get; set; }
        public string? CallLegId { get; set; }
        public string? CallSessionId { get; set; }
        public long CreatedAt { get; set; }
        public long? DialedAt { get; set; }
        public long? AnsweredAt { get; set; }
        public long? EndedAt { get; set; }
        public string? EndReason { get; set; }
        public string? HangupCause { get; set; }
        public string? BatchId { get; set; }
        public string? BatchItemId { get; set; }
        public string? StreamToken { get; set; }
        public string? StreamFormat { get; set; }

        public CallRecord ToRecord() => new(
            Id, StorageText<CallDirection>.Parse(Direction), Phone, Name, Context, Greeting, StorageText<CallStatus>.Parse(Status), InstanceId,
            CallControlId, CallLegId, CallSessionId, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), Time(DialedAt), Time(AnsweredAt),
            Time(EndedAt), EndReason, HangupCause, BatchId, BatchItemId, StreamToken, StreamFormat);
    }

    private sealed class TurnRow
    {
        public string CallId { get; set; } = "";
        public int Seq { get; set; }
        public string Speaker { get; set; } = "";
        public string Text { get; set; } = "";
        public long StartedAt { get; set; }
        public long EndedAt { get; set; }
        public bool Interrupted { get; set; }
        public int? EndOfSpeechToDecisionMs { get; set; }
        public int? DecisionToFirstTokenMs { get; set; }
        public int? FirstTokenToFirstSentenceMs { get; set; }
        public int? SentenceToTtsFirstByteMs { get; set; }
        public int? TtsFirstByteToFirstFrameMs { get; set; }
        public int? VoiceToVoiceMs { get; set; }

        public TurnRecord ToRecord() => new(
            CallId, Seq, StorageText<Speaker>.Parse(Speaker), Text, DateTimeOffset.FromUnixTimeMilliseconds(StartedAt),
            DateTimeOffset.FromUnixTimeMilliseconds(EndedAt), Interrupted,
            new TurnLatency(EndOfSpeechToDecisionMs, DecisionToFirstTokenMs, FirstTokenToFirstSentenceMs, SentenceToTtsFirstByteMs,
                TtsFirstByteToFirstFrameMs, VoiceToVoiceMs));
    }

    private sealed class EventRow
    {
        public string EventId { get; set; } = "";
        public string? CallId { get; set; }
        public string EventType { get; set; } = "";
        public long ReceivedAt { get; set; }
    }

    private sealed class BatchRow
    {
        public string Id { get; set; } = "";
        public long CreatedAt { get; set; }
        public long? CancelledAt { get; set; }
    }

    private sealed class ItemRow
    {
        public string Id { get; set; } = "";
        public string BatchId { get; set; } = "";
        public int ItemIndex { get; set; }
        public string Phone { get; set; } = "";
        public string? Name { get; set; }
        public string? Context { get; set; }
        public string? Greeting { get; set; }
        public string Status { get; set; } = "";
        public string? LastOutcome { get; set; }
        public int Attempts { get; set; }
        public long NextAttemptAt { get; set; }
        public string? LastCallId { get; set; }
        public string? ClaimedBy { get; set; }
        public long? ClaimedAt { get; set; }

        public BatchItem ToRecord() => new(
            Id, BatchId, ItemIndex, Phone, Name, Context, Greeting, StorageText<BatchItemStatus>.Parse(Status),
            LastOutcome is null ? null : StorageText<BatchItemStatus>.Parse(LastOutcome), Attempts,
            DateTimeOffset.FromUnixTimeMilliseconds(NextAttemptAt), LastCallId, ClaimedBy, Time(ClaimedAt));
    }
}
