using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TelnyxAiService.Configuration;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Tests.Storage;

public sealed class CallStoreWriterTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"telnyx-ai-writer-{Guid.NewGuid():N}");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Writer_1000TurnsThenDispose_StoresEveryTurn()
    {
        await using var store = SqlCallStore.Create(StorageOptions.Sqlite(Path.Combine(directory, "calls.db"), "test"), TimeProvider.System);
        await store.MigrateAsync(Ct);
        await store.InsertCallAsync(new NewCall("c1", CallDirection.Outbound, "+15550001111", "test"), Ct);
        var writer = new CallStoreWriter(store, NullLogger<CallStoreWriter>.Instance, TimeProvider.System);
        await writer.StartAsync(Ct);
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

        for (var seq = 0; seq < 1000; seq++)
        {
            await writer.AppendTurnAsync(new TurnRecord("c1", seq, seq % 2 == 0 ? Speaker.Caller : Speaker.Agent, $"turn {seq}",
                t0.AddSeconds(seq), t0.AddSeconds(seq + 1), false, new TurnLatency(VoiceToVoice: seq)), Ct);
        }

        await writer.RecordEventAsync(new CallEvent("ev-1", "c1", "call.hangup", t0), Ct);
        await writer.DisposeAsync();

        var turns = await store.GetTurnsAsync("c1", Ct);
        Assert.Equal(Enumerable.Range(0, 1000), turns.Select(t => t.Seq));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (int?)i), turns.Select(t => t.Latency.VoiceToVoice));
        Assert.Equal("turn 999", turns[^1].Text);
        Assert.Equal(["ev-1"], (await store.GetEventsAsync("c1", Ct)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Writer_WriteKeepsFailing_RetriesThenLogsItLostAndGoesOn()
    {
        await using var store = SqlCallStore.Create(StorageOptions.Sqlite(Path.Combine(directory, "calls.db"), "test"), TimeProvider.System);
        await store.MigrateAsync(Ct);
        await store.InsertCallAsync(new NewCall("c1", CallDirection.Outbound, "+15550001111", "test"), Ct);
        var logger = new ListLogger();
        var writer = new CallStoreWriter(store, logger, new InstantDelays());
        await writer.StartAsync(Ct);
        var now = DateTimeOffset.UtcNow;

        await writer.AppendTurnAsync(new TurnRecord("no-such-call", 0, Speaker.Caller, "lost", now, now, false, new TurnLatency()), Ct);
        await writer.AppendTurnAsync(new TurnRecord("c1", 0, Speaker.Caller, "kept", now, now, false, new TurnLatency()), Ct);
        await writer.DisposeAsync();

        Assert.Equal(["kept"], (await store.GetTurnsAsync("c1", Ct)).Select(t => t.Text));
        Assert.Equal(
            [
                (LogLevel.Warning, "Storing a turn of call no-such-call failed (attempt 1); retrying"),
                (LogLevel.Warning, "Storing a turn of call no-such-call failed (attempt 2); retrying"),
                (LogLevel.Warning, "Storing a turn of call no-such-call failed (attempt 3); retrying"),
                (LogLevel.Error, "A turn of call no-such-call was not stored after 4 attempts"),
                (LogLevel.Error, "1 queued turns/events were not stored"),
            ],
            logger.Entries);
    }

    [Fact]
    public async Task AddStorage_HostStarts_MigratesAndFlushesWriterOnStop()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection([
            KeyValuePair.Create("DATABASE_URL", (string?)$"sqlite:{Path.Combine(directory, "host.db")}"),
            KeyValuePair.Create("INSTANCE_ID", (string?)"node-7"),
        ]);
        builder.Services.AddSingleton(sp => new SettingsReader(sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddStorage();

        using (var host = builder.Build())
        {
            await host.StartAsync(Ct);
            var options = host.Services.GetRequiredService<StorageOptions>();
            var store = host.Services.GetRequiredService<ICallStore>();
            await store.InsertCallAsync(new NewCall("c1", CallDirection.Inbound, "+15550001111", options.InstanceId), Ct);
            var writer = host.Services.GetRequiredService<CallStoreWriter>();
            await writer.AppendTurnAsync(new TurnRecord("c1", 0, Speaker.Caller, "hello", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, false, new TurnLatency()), Ct);
            await host.StopAsync(Ct);
        }

        await using var reopened = SqlCallStore.Create(StorageOptions.Sqlite(Path.Combine(directory, "host.db"), "node-7"), TimeProvider.System);
        Assert.Empty(await reopened.MigrateAsync(Ct));
        Assert.Equal(["hello"], (await reopened.GetTurnsAsync("c1", Ct)).Select(t => t.Text));
        Assert.Equal("node-7", (await reopened.GetCallAsync("c1", Ct))?.InstanceId);
    }

    /// <summary>Real time, except that every delay is one millisecond, so retries run at once.</summary>
    private sealed class InstantDelays : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            System.CreateTimer(callback, state, TimeSpan.FromMilliseconds(1), period);
    }

    private sealed class ListLogger : ILogger<CallStoreWriter>
    {
        private readonly Lock gate = new();
        private readonly List<(LogLevel, string)> entries = [];

        public IReadOnlyList<(LogLevel Level, string Message)> Entries
        {
            get
            {
                lock (gate)
                {
                    return [.. entries];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (gate)
            {
                entries.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
