using System.Data.Common;
using Dapper;
using Npgsql;

namespace TelnyxAiService.Storage;

/// <summary>
/// The shared store for several instances: claims lock rows with <c>FOR UPDATE SKIP LOCKED</c> so each item goes to one
/// instance, and migrations hold a transaction-scoped advisory lock so instances starting together migrate once.
/// </summary>
internal sealed class PostgresCallStore(StorageOptions options, TimeProvider time) : SqlCallStore(time)
{
    /// <summary>The advisory lock key for migrations ("telnyx" in ASCII).</summary>
    private const long MigrationLockKey = 0x74656c6e7978;

    private readonly NpgsqlDataSource dataSource = NpgsqlDataSource.Create(options.ConnectionString);

    public override StorageProvider Provider => StorageProvider.Postgres;

    protected override string ClaimLockClause => "FOR UPDATE SKIP LOCKED";

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await dataSource.OpenConnectionAsync(cancellationToken);

    protected override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(cancellationToken);

    protected override Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(@MigrationLockKey)", new { MigrationLockKey }, transaction, cancellationToken: cancellationToken));

    public override ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
