using TelnyxAiService.Llm;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Tests.Storage;

/// <summary>The store contract against a real SQLite file in a fresh temporary directory per test.</summary>
public sealed class SqliteCallStoreTests : CallStoreContractTests
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"telnyx-ai-sqlite-{Guid.NewGuid():N}");

    private protected override Task<TestStorage> CreateStoreAsync(TimeProvider? time = null) =>
        Task.FromResult(new TestStorage(StorageOptions.Sqlite(Path.Combine(directory, "nested", "calls.db"), "test"), time));

    protected override ValueTask DeleteDatabaseAsync()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Open_NewFile_CreatesDirectoryInWalModeWithForeignKeys()
    {
        var store = await OpenAsync();

        Assert.True(File.Exists(Path.Combine(directory, "nested", "calls.db")));
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(StorageOptions.Sqlite(Path.Combine(directory, "nested", "calls.db"), "test").ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await command.ExecuteScalarAsync(Ct));
        var turnForUnknownCall = new TurnRecord("nobody", 0, Speaker.Caller, "hi", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, false, new TurnLatency());
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => store.Turns.AppendTurnAsync(turnForUnknownCall, Ct));
    }
}
