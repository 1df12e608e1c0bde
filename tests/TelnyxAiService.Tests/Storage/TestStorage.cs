using TelnyxAiService.Storage;

namespace TelnyxAiService.Tests.Storage;

/// <summary>Every store over one database, built as the service registers them, for tests that drive the stores directly.</summary>
internal sealed class TestStorage : IAsyncDisposable
{
    public TestStorage(StorageOptions options, TimeProvider? time = null)
    {
        Time = time ?? TimeProvider.System;
        Dialect = SqlDialect.Create(options);
        Calls = new SqlCallStore(Dialect, Time);
        Turns = new SqlTurnStore(Dialect);
        Events = new SqlWebhookEventStore(Dialect);
        Batches = new SqlBatchStore(Dialect, Time);
        Leases = new SqlLeaseStore(Dialect);
        Deliveries = new SqlCallEventStore(Dialect);
    }

    public TimeProvider Time { get; }

    public SqlDialect Dialect { get; }

    public ICallStore Calls { get; }

    public ITurnStore Turns { get; }

    public IWebhookEventStore Events { get; }

    public IBatchStore Batches { get; }

    public ILeaseStore Leases { get; }

    public ICallEventStore Deliveries { get; }

    public Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken) => StorageMigrations.ApplyAsync(Dialect, Time, cancellationToken);

    public ValueTask DisposeAsync() => Dialect.DisposeAsync();
}
