using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace TelnyxAiService.Storage;

/// <summary>
/// The embedded store: one SQLite file in WAL mode (readers never wait for the writer), foreign keys on, and a busy
/// timeout so that writers from several connections queue instead of failing. Writes take the lock up front
/// (BEGIN IMMEDIATE), which also serialises claims and migrations.
/// </summary>
internal sealed class SqliteDialect : SqlDialect
{
    /// <summary>
    /// How long a statement waits for another connection's write lock before it fails with SQLITE_BUSY: long enough for
    /// any of our short transactions to finish, short enough that a request meeting a database locked for good answers
    /// 503 within a couple of seconds (the background writer retries it). Both SQLite's busy handler and
    /// Microsoft.Data.Sqlite's own retry loop (the command timeout, 30 s by default) are held to it; together they
    /// used to hang a request for 30 s.
    /// </summary>
    private const int BusyTimeoutSeconds = 2;

    /// <summary>
    /// Per connection: the busy timeout above; in WAL mode, sync at checkpoints rather than at every commit, which
    /// survives a process crash (kill -9) and loses at most the last commits on a power failure.
    /// </summary>
    private const string SessionPragmas = "PRAGMA busy_timeout = 2000; PRAGMA synchronous = NORMAL";

    private readonly string connectionString;
    private bool walEnabled;

    public SqliteDialect(string connectionString)
    {
        this.connectionString = connectionString;
        var directory = Path.GetDirectoryName(new SqliteConnectionStringBuilder(connectionString).DataSource);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }

    public override StorageProvider Provider => StorageProvider.Sqlite;

    public override string ClaimLockClause => "";

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString) { DefaultTimeout = BusyTimeoutSeconds };
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = walEnabled ? SessionPragmas : $"PRAGMA journal_mode = WAL; {SessionPragmas}";
            await command.ExecuteNonQueryAsync(cancellationToken);
            walEnabled = true;
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public override Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    /// <summary>Nothing more: the migration's write transaction (BEGIN IMMEDIATE) already excludes every other writer.</summary>
    public override Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public override ValueTask DisposeAsync()
    {
        using var connection = new SqliteConnection(connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }
}
