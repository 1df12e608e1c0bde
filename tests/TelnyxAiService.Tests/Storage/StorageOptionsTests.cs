using Microsoft.Extensions.Configuration;
using Npgsql;
using TelnyxAiService.Configuration;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Tests.Storage;

public sealed class StorageOptionsTests
{
    [Fact]
    public void Read_NoDatabaseUrl_UsesSqliteFileUnderData()
    {
        var options = StorageOptions.Read(Settings(("INSTANCE_ID", "node-1")));

        Assert.Equal(StorageProvider.Sqlite, options.Provider);
        Assert.Equal($"Data Source={Path.GetFullPath("data/telnyx-ai.db")};Foreign Keys=True;Pooling=True", options.ConnectionString);
        Assert.Equal("node-1", options.InstanceId);
    }

    [Fact]
    public void Read_SqliteUrl_UsesThatFile()
    {
        var options = StorageOptions.Read(Settings(("DATABASE_URL", "sqlite:/tmp/other.db")));

        Assert.Equal((StorageProvider.Sqlite, "Data Source=/tmp/other.db;Foreign Keys=True;Pooling=True"), (options.Provider, options.ConnectionString));
        Assert.Equal(Environment.MachineName, options.InstanceId);
    }

    [Theory]
    [InlineData("postgres://app:p%40ss%3Aword@db.example.com:6543/calls?sslmode=require", 6543, "p@ss:word", SslMode.Require)]
    [InlineData("postgresql://app@db.example.com/calls", 5432, null, SslMode.Prefer)]
    public void Read_PostgresUrl_ConvertsToNpgsqlConnectionString(string url, int port, string? password, SslMode sslMode)
    {
        var options = StorageOptions.Read(Settings(("DATABASE_URL", url)));

        Assert.Equal(StorageProvider.Postgres, options.Provider);
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        Assert.Equal(("db.example.com", port, "app", password, "calls", sslMode),
            (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database, builder.SslMode));
    }

    [Theory]
    [InlineData("mysql://app:secret@db/calls")]
    [InlineData("postgres://db.example.com/calls")]
    [InlineData("postgres://app:secret@db.example.com/")]
    [InlineData("postgres://app:secret@db.example.com/a/b")]
    [InlineData("postgres://app:secret@db.example.com/calls?sslmode=sometimes")]
    [InlineData("postgres://app:secret@db.example.com/calls?pool=9")]
    [InlineData("not a url secret")]
    public void Read_MalformedDatabaseUrl_ThrowsWithoutRepeatingTheSecret(string url)
    {
        var e = Assert.Throws<InvalidSettingException>(() => StorageOptions.Read(Settings(("DATABASE_URL", url))));

        Assert.Equal("DATABASE_URL", e.Name);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    private static SettingsReader Settings(params (string Name, string Value)[] values) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Name, (string?)v.Value))).Build());
}
