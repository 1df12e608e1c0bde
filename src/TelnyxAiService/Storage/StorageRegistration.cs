using TelnyxAiService.Configuration;

namespace TelnyxAiService.Storage;

public static class StorageRegistration
{
    /// <summary>
    /// Registers <see cref="StorageOptions"/>, the SQLite or PostgreSQL <see cref="SqlDialect"/> chosen by <c>DATABASE_URL</c>,
    /// one store per thing stored (<see cref="ICallStore"/>, <see cref="ITurnStore"/>, <see cref="IWebhookEventStore"/>,
    /// <see cref="IBatchStore"/>, <see cref="ILeaseStore"/>, <see cref="ICallEventStore"/>), the migration that runs when
    /// the host starts, the background <see cref="CallStoreWriter"/> and the cross-instance <see cref="CallNotifier"/>. Call it before features whose
    /// hosted services use the store, so the schema is ready when they start.
    /// </summary>
    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        services.AddSettings(StorageOptions.Read);
        services.AddSingleton(sp => SqlDialect.Create(sp.GetRequiredService<StorageOptions>()));
        services.AddSingleton<ICallStore, SqlCallStore>();
        services.AddSingleton<ITurnStore, SqlTurnStore>();
        services.AddSingleton<IWebhookEventStore, SqlWebhookEventStore>();
        services.AddSingleton<IBatchStore, SqlBatchStore>();
        services.AddSingleton<ILeaseStore, SqlLeaseStore>();
        services.AddSingleton<ICallEventStore, SqlCallEventStore>();
        services.AddHostedService<StorageMigrationService>();
        services.AddSingleton<CallStoreWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<CallStoreWriter>());
        services.AddSingleton<CallNotifier>();
        services.AddHostedService(sp => sp.GetRequiredService<CallNotifier>());
        return services;
    }
}
