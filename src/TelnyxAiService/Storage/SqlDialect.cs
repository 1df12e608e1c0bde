using System.Data.Common;

namespace TelnyxAiService.Storage;

/// <summary>
/// What differs between SQLite and PostgreSQL: how a connection is opened, how a write transaction takes its lock, how
/// migrations are serialised and how claimed rows are locked. Everything else is the same portable SQL in the stores.
/// </summary>
internal abstract class SqlDialect : IAsyncDisposable
{
    public static SqlDialect Create(StorageOptions options) => options.Provider switch
    {
        StorageProvider.Sqlite => new SqliteDialect(options.ConnectionString),
        _ => new PostgresDialect(options.ConnectionString),
    };

    public abstract StorageProvider Provider { get; }

    /// <summary>Appended to a claim's row selection: <c>FOR UPDATE SKIP LOCKED</c> on PostgreSQL.</summary>
    public abstract string ClaimLockClause { get; }

    /// <summary>An open connection with the dialect's session settings applied.</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>A write transaction that takes the database's write lock at once (SQLite: BEGIN IMMEDIATE).</summary>
    public abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Takes a lock that serialises migrations across processes, inside <paramref name="transaction"/>.</summary>
    public abstract Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}
