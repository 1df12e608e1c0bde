namespace TelnyxAiService.Storage;

/// <summary>Brings the schema up to date when the host starts, before any other hosted service that is registered after it.</summary>
internal sealed partial class StorageMigrationService(SqlDialect dialect, TimeProvider time, ILogger<StorageMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var version in await StorageMigrations.ApplyAsync(dialect, time, cancellationToken))
        {
            LogApplied(logger, version, dialect.Provider);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied storage migration {Version} ({Provider})")]
    private static partial void LogApplied(ILogger logger, int version, StorageProvider provider);
}
