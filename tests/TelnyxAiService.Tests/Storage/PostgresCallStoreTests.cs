using Npgsql;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Tests.Storage;

/// <summary>
/// The store contract against a real PostgreSQL (TEST_POSTGRES_URL, which scripts/test sets after starting a local
/// server), in a fresh schema per test. Without TEST_POSTGRES_URL these tests fail, unless ALLOW_NO_POSTGRES=1 skips them.
/// </summary>
public sealed class PostgresCallStoreTests : CallStoreContractTests
{
    private readonly string schema = $"test_{Guid.NewGuid():N}";
    private StorageOptions? database;

    private protected override async Task<TestStorage> CreateStoreAsync(TimeProvider? time = null)
    {
        database ??= await CreateSchemaAsync();
        return new TestStorage(database, time);
    }

    protected override async ValueTask DeleteDatabaseAsync()
    {
        if (database is not null)
        {
            await ExecuteAsync(database.ConnectionString, $"DROP SCHEMA {schema} CASCADE");
        }
    }

    private async Task<StorageOptions> CreateSchemaAsync()
    {
        var url = Environment.GetEnvironmentVariable("TEST_POSTGRES_URL");
        if (string.IsNullOrEmpty(url))
        {
            Assert.SkipWhen(Environment.GetEnvironmentVariable("ALLOW_NO_POSTGRES") == "1", "TEST_POSTGRES_URL is not set (ALLOW_NO_POSTGRES=1).");
            Assert.Fail("TEST_POSTGRES_URL is not set: run scripts/test, which starts a local PostgreSQL and sets it "
                + "(or set ALLOW_NO_POSTGRES=1 to skip the PostgreSQL tests locally).");
        }

        var server = StorageOptions.Postgres(url, "test");
        await ExecuteAsync(server.ConnectionString, $"CREATE SCHEMA {schema}");
        return server with { ConnectionString = new NpgsqlConnectionStringBuilder(server.ConnectionString) { SearchPath = schema }.ConnectionString };
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }
}
