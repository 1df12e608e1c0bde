using TelnyxAiService.Configuration;

namespace TelnyxAiService.Storage;

public static class StorageRegistration
{
    /// <summary>
    /// Registers <see cref="StorageOptions"/>, the <see cref="ICallStore"/> chosen by <c>DATABASE_URL</c>, the migration
    /// that runs when the host starts, the background <see cref="CallStoreWriter"/> and the cross-instance <see cref="CallNotifier"/>. Call it before features whose
    /// hosted services use the store, so the schema is ready when they start.
    /// </summary>
    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        services.AddSettings(StorageOptions.Read);
        services.AddSingleton(sp => SqlCallStore.Create(sp.GetRequiredService<StorageOptions>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ICallStore>(sp => sp.GetRequiredService<SqlCallStore>());
        services.AddHostedService<StorageMigrationService>();
        services.AddSingleton<CallStoreWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<CallStoreWriter>());
        services.AddSingleton<CallNotifier>();
        services.AddHostedService(sp => sp.GetRequiredService<CallNotifier>());
        return services;
    }
}
