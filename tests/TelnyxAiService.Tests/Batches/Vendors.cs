using Npgsql;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Emulators.ElevenLabs;
using TelnyxAiService.Emulators.Hosting;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Tests.Batches;

/// <summary>
/// The four vendor emulators shared by every service instance of a batch test, with fast callees: they answer at
/// once, say one line after the greeting and hang up after the agent's reply.
/// </summary>
public sealed class Vendors : IAsyncDisposable
{
    public const string CallerLine = "Yes, that works for me";
    public const string AgentReply = "Great, see you then.";

    private Vendors(TelnyxEmulator telnyx, AnthropicEmulator anthropic, DeepgramEmulator deepgram, ElevenLabsEmulator elevenLabs)
    {
        Telnyx = telnyx;
        Anthropic = anthropic;
        Deepgram = deepgram;
        ElevenLabs = elevenLabs;
    }

    public TelnyxEmulator Telnyx { get; }

    public AnthropicEmulator Anthropic { get; }

    public DeepgramEmulator Deepgram { get; }

    public ElevenLabsEmulator ElevenLabs { get; }

    public static CalleeScript Talker { get; } = new() { AnswerAfter = TimeSpan.FromMilliseconds(20), Lines = [CallerLine] };

    public static CalleeScript Busy { get; } = new() { Outcome = CalleeOutcome.Busy, AnswerAfter = TimeSpan.FromMilliseconds(20) };

    /// <summary>Answers and stays silent: the call lasts until someone hangs up.</summary>
    public static CalleeScript Silent { get; } = new() { AnswerAfter = TimeSpan.FromMilliseconds(20) };

    public static string Number(int index) => $"+3460{index:D7}";

    public static async Task<Vendors> StartAsync(IReadOnlyDictionary<string, CalleeScript> callees, CancellationToken cancellationToken, byte[]? signingSeed = null)
    {
        var telnyx = await TelnyxEmulator.StartAsync(
            new TelnyxEmulatorOptions
            {
                Callee = Talker,
                Callees = callees,
                SpeakTimePerCharacter = TimeSpan.FromMilliseconds(1),
                LineDelay = TimeSpan.FromMilliseconds(20),
                InterimTranscripts = false,
                SigningKeySeed = signingSeed,
                WebhookAttempts = 20,
                WebhookRetryDelay = TimeSpan.FromMilliseconds(50),
            },
            cancellationToken);
        var anthropic = await AnthropicEmulator.StartAsync(new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(AgentReply) }, cancellationToken);
        var deepgram = await DeepgramEmulator.StartAsync(new DeepgramEmulatorOptions(), cancellationToken);
        var elevenLabs = await ElevenLabsEmulator.StartAsync(new ElevenLabsEmulatorOptions(), cancellationToken);
        return new Vendors(telnyx, anthropic, deepgram, elevenLabs);
    }

    /// <summary>Everything a service instance on <paramref name="port"/> needs to use these emulators, in webhook mode.</summary>
    public Dictionary<string, string> SettingsFor(int port, string databaseUrl, string instanceId) =>
        new(EmulatorSet.ServiceSettings(Telnyx, Deepgram, Anthropic, ElevenLabs, new Uri($"http://127.0.0.1:{port}")))
        {
            ["USE_MEDIA_STREAMS"] = "false",
            ["AGENT_LANGUAGE"] = "en",
            ["DATABASE_URL"] = databaseUrl,
            ["INSTANCE_ID"] = instanceId,
            ["LOG_LEVEL"] = "Warning",
        };

    /// <summary>Dials that placed a call (a repeated command_id is answered from memory and places none).</summary>
    public IReadOnlyList<RecordedCommand> PlacedDials() =>
        [.. Telnyx.Commands.Where(c => c.Action == "dial" && c.StatusCode == 200 && !c.Duplicate)];

    public async ValueTask DisposeAsync()
    {
        await Telnyx.DisposeAsync();
        await Anthropic.DisposeAsync();
        await Deepgram.DisposeAsync();
        await ElevenLabs.DisposeAsync();
    }
}

/// <summary>A fresh PostgreSQL schema on TEST_POSTGRES_URL for one test, dropped afterwards.</summary>
public sealed class PostgresSchema : IAsyncDisposable
{
    private readonly string connectionString;

    private PostgresSchema(string url, string connectionString, string name)
    {
        this.connectionString = connectionString;
        Name = name;
        Url = $"{url}{(url.Contains('?', StringComparison.Ordinal) ? '&' : '?')}search_path={name}";
    }

    public string Name { get; }

    /// <summary>DATABASE_URL for the schema.</summary>
    public string Url { get; }

    public static async Task<PostgresSchema> CreateAsync(CancellationToken cancellationToken)
    {
        var url = Environment.GetEnvironmentVariable("TEST_POSTGRES_URL");
        if (string.IsNullOrEmpty(url))
        {
            Assert.SkipWhen(Environment.GetEnvironmentVariable("ALLOW_NO_POSTGRES") == "1", "TEST_POSTGRES_URL is not set (ALLOW_NO_POSTGRES=1).");
            Assert.Fail("TEST_POSTGRES_URL is not set: run scripts/test (or set ALLOW_NO_POSTGRES=1 to skip the PostgreSQL tests locally).");
        }

        var server = StorageOptions.Postgres(url, "test").ConnectionString;
        var schema = new PostgresSchema(url, server, $"batch_{Guid.NewGuid():N}");
        await schema.ExecuteAsync($"CREATE SCHEMA {schema.Name}", cancellationToken);
        return schema;
    }

    public async ValueTask DisposeAsync() => await ExecuteAsync($"DROP SCHEMA {Name} CASCADE", CancellationToken.None);

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
