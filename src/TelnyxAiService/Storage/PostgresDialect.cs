using System.Data.Common;
using Npgsql;

namespace TelnyxAiService.Storage;

/// <summary>
/// The shared store for several instances: claims lock rows with <c>FOR UPDATE SKIP LOCKED</c> so each item goes to one
/// instance, and migrations hold a transaction-scoped advisory lock so instances starting together migrate once.
/// </summary>
internal sealed class PostgresDialect(string connectionString) : SqlDialect
{
    /// <summary>The advisory lock key for migrations ("telnyx" in ASCII).</summary>
    private const long MigrationLockKey = 0x74656c6e7978;

    private readonly NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);

    public override StorageProvider Provider => StorageProvider.Postgres;

    public override string ClaimLockClause => "FOR UPDATE SKIP LOCKED";

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await dataSource.OpenConnectionAsync(cancellationToken);

    public override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(cancellationToken);

    public override Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.RunAsync("SELECT pg_advisory_xact_lock(@key)", transaction, cancellationToken, ("key", MigrationLockKey));

    public override ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
