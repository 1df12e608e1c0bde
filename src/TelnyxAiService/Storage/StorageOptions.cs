using Npgsql;
using TelnyxAiService.Configuration;

namespace TelnyxAiService.Storage;

public enum StorageProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Where calls, turns, events and batches are kept. <c>DATABASE_URL</c> unset: the SQLite file <c>data/telnyx-ai.db</c>;
/// <c>sqlite:PATH</c>: another SQLite file; <c>postgres://user:password@host:port/database</c>: PostgreSQL.
/// <c>INSTANCE_ID</c> (default: the machine name) names this instance; it must differ between instances that share one
/// PostgreSQL, and when it stays the same across a restart the new run takes over what the old one held at once.
/// </summary>
/// <param name="ConnectionString">An ADO.NET connection string for the provider.</param>
public sealed record StorageOptions(StorageProvider Provider, string ConnectionString, string InstanceId)
{
    /// <summary>
    /// This run of the instance as the holder of leases, call ownership and batch claims: <c>INSTANCE_ID/random</c>, so
    /// that a restart is a new holder and can tell its own earlier run's rows apart.
    /// </summary>
    public string LeaseHolder { get; init; } = $"{InstanceId}/{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}";

    /// <summary>The INSTANCE_ID part of a <see cref="LeaseHolder"/>.</summary>
    public static string InstanceOf(string leaseHolder) => leaseHolder.LastIndexOf('/') is var slash and > 0 ? leaseHolder[..slash] : leaseHolder;

    public const string DefaultSqlitePath = "data/telnyx-ai.db";

    public static StorageOptions Read(SettingsReader settings)
    {
        var instanceId = settings.Text("INSTANCE_ID", Environment.MachineName);
        var url = settings.Optional("DATABASE_URL");
        if (url is null)
        {
            return Sqlite(DefaultSqlitePath, instanceId);
        }

        if (url.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase) && url.Length > "sqlite:".Length)
        {
            return Sqlite(url["sqlite:".Length..], instanceId);
        }

        return Postgres(url, instanceId);
    }

    public static StorageOptions Sqlite(string path, string instanceId) =>
        new(StorageProvider.Sqlite, $"Data Source={Path.GetFullPath(path)};Foreign Keys=True;Pooling=True", instanceId);

    /// <summary>Converts a <c>postgres://</c> or <c>postgresql://</c> URL to an Npgsql connection string.</summary>
    /// <exception cref="InvalidSettingException">The URL is malformed (the message never repeats the password).</exception>
    public static StorageOptions Postgres(string url, string instanceId)
    {
        const string Expected = "must be postgres://user:password@host:port/database or sqlite:PATH";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql"))
        {
            throw new InvalidSettingException("DATABASE_URL", $"{Expected}; the scheme is not postgres, postgresql or sqlite");
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        var user = uri.UserInfo.Split(':', 2);
        if (uri.Host.Length == 0 || database.Length == 0 || database.Contains('/') || user[0].Length == 0)
        {
            throw new InvalidSettingException("DATABASE_URL", $"{Expected}; the user, host or database is missing");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Username = Uri.UnescapeDataString(user[0]),
            Password = user.Length > 1 ? Uri.UnescapeDataString(user[1]) : null,
            Database = database,
        };
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, Uri.UnescapeDataString(v)) : (pair, "");
            if (key == "search_path" && value.Length > 0)
            {
                builder.SearchPath = value;
            }
            else if (key == "sslmode" && Enum.TryParse<SslMode>(value.Replace("-", ""), ignoreCase: true, out var sslMode))
            {
                builder.SslMode = sslMode;
            }
            else
            {
                throw new InvalidSettingException("DATABASE_URL", $"{Expected}; the query options are sslmode=disable|prefer|require|verify-ca|verify-full and search_path=SCHEMA, got '{key}'");
            }
        }

        return new StorageOptions(StorageProvider.Postgres, builder.ConnectionString, instanceId);
    }
}
