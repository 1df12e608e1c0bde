namespace TelnyxAiService.Storage;

/// <summary>
/// The schema, as ordered migrations. Each version runs once per database, inside a transaction, and is recorded in
/// <c>schema_migrations</c>. Append new versions; never edit one that has shipped. Timestamps are UTC epoch milliseconds
/// (BIGINT) so that both dialects compare and sort them the same way.
/// </summary>
internal static class StorageMigrations
{
    /// <param name="Sqlite">The SQL for SQLite; null when the version changes nothing there.</param>
    /// <param name="Postgres">The SQL for PostgreSQL.</param>
    internal sealed record Migration(int Version, string? Sqlite, string Postgres)
    {
        public Migration(int version, string portable)
            : this(version, portable, portable)
        {
        }

        public string? For(StorageProvider provider) => provider == StorageProvider.Sqlite ? Sqlite : Postgres;
    }

    public const string CreateMigrationsTable =
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";

    public static readonly IReadOnlyList<Migration> All =
    [
        new(1, """
            CREATE TABLE calls (
                id TEXT PRIMARY KEY,
                direction TEXT NOT NULL,
                phone TEXT NOT NULL,
                name TEXT,
                context TEXT,
                greeting TEXT,
                status TEXT NOT NULL,
                instance_id TEXT NOT NULL,
                call_control_id TEXT,
                call_leg_id TEXT,
                call_session_id TEXT,
                created_at BIGINT NOT NULL,
                dialed_at BIGINT,
                answered_at BIGINT,
                ended_at BIGINT,
                end_reason TEXT,
                hangup_cause TEXT,
                batch_id TEXT,
                batch_item_id TEXT
            );
            CREATE UNIQUE INDEX calls_call_control_id ON calls (call_control_id);
            CREATE INDEX calls_newest ON calls (created_at, id);
            CREATE INDEX calls_batch ON calls (batch_id, created_at, id);
            CREATE INDEX calls_open ON calls (instance_id) WHERE ended_at IS NULL;

            CREATE TABLE turns (
                call_id TEXT NOT NULL REFERENCES calls (id),
                seq INTEGER NOT NULL,
                speaker TEXT NOT NULL,
                text TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                ended_at BIGINT NOT NULL,
                interrupted BOOLEAN NOT NULL,
                end_of_speech_to_decision_ms INTEGER,
                decision_to_first_token_ms INTEGER,
                first_token_to_first_sentence_ms INTEGER,
                sentence_to_tts_first_byte_ms INTEGER,
                tts_first_byte_to_first_frame_ms INTEGER,
                voice_to_voice_ms INTEGER,
                PRIMARY KEY (call_id, seq)
            );

            CREATE TABLE call_events (
                event_id TEXT PRIMARY KEY,
                call_id TEXT,
                event_type TEXT NOT NULL,
                received_at BIGINT NOT NULL
            );
            CREATE INDEX call_events_call ON call_events (call_id, received_at);

            CREATE TABLE batches (
                id TEXT PRIMARY KEY,
                created_at BIGINT NOT NULL,
                cancelled_at BIGINT
            );

            CREATE TABLE batch_items (
                id TEXT PRIMARY KEY,
                batch_id TEXT NOT NULL REFERENCES batches (id),
                item_index INTEGER NOT NULL,
                phone TEXT NOT NULL,
                name TEXT,
                context TEXT,
                greeting TEXT,
                status TEXT NOT NULL,
                last_outcome TEXT,
                attempts INTEGER NOT NULL,
                next_attempt_at BIGINT NOT NULL,
                last_call_id TEXT,
                claimed_by TEXT,
                claimed_at BIGINT,
                UNIQUE (batch_id, item_index)
            );
            CREATE INDEX batch_items_due ON batch_items (next_attempt_at) WHERE status = 'pending';
            CREATE INDEX batch_items_claimed ON batch_items (claimed_by) WHERE status = 'dialing';
            """),
        new(2, Sqlite: null, Postgres: """
            CREATE TABLE relayed_webhooks (
                id TEXT PRIMARY KEY,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            """),
        new(3, """
            ALTER TABLE calls ADD COLUMN stream_token TEXT;
            ALTER TABLE calls ADD COLUMN stream_format TEXT;
            CREATE TABLE leases (
                holder TEXT PRIMARY KEY,
                instance_id TEXT NOT NULL,
                renewed_at BIGINT NOT NULL
            );
            """),
        new(4, """
            CREATE TABLE call_event_deliveries (
                call_id TEXT PRIMARY KEY REFERENCES calls (id),
                event_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                attempts INTEGER NOT NULL,
                next_attempt_at BIGINT,
                delivered_at BIGINT,
                last_error TEXT
            );
            CREATE INDEX call_event_deliveries_due ON call_event_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
            """),
        // Phone lookups in GET /api/calls?phone=, newest first, without scanning every call.
        new(5, "CREATE INDEX calls_phone ON calls (phone, created_at, id)"),
    ];

    /// <summary>Applies the migrations this database has not seen; safe to run again and from several instances at once.</summary>
    /// <returns>The versions applied now.</returns>
    public static async Task<IReadOnlyList<int>> ApplyAsync(SqlDialect dialect, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken);
        await dialect.LockForMigrationAsync(connection, transaction, cancellationToken);
        await connection.RunAsync(CreateMigrationsTable, transaction, cancellationToken);
        var applied = (await connection.ReadAsync("SELECT version FROM schema_migrations", r => r.GetInt32(0), transaction, cancellationToken)).ToHashSet();
        var now = Sql.Millis(time.GetUtcNow());
        var versions = new List<int>();
        foreach (var migration in All.Where(m => !applied.Contains(m.Version)))
        {
            if (migration.For(dialect.Provider) is { } sql)
            {
                await connection.RunAsync(sql, transaction, cancellationToken);
            }

            await connection.RunAsync(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @now)",
                transaction,
                cancellationToken,
                ("version", migration.Version),
                ("now", now));
            versions.Add(migration.Version);
        }

        await transaction.CommitAsync(cancellationToken);
        return versions;
    }
}
