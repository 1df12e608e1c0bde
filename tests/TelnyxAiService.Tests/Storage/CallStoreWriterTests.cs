using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TelnyxAiService.Configuration;
using TelnyxAiService.Llm;
using TelnyxAiService.Storage;
using TelnyxAiService.Telephony;
using TelnyxAiService.Tests.TestHost;

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
        await using var store = new TestStorage(StorageOptions.Sqlite(Path.Combine(directory, "calls.db"), "test"));
        await store.MigrateAsync(Ct);
        await store.Calls.InsertCallAsync(new NewCall("c1", CallDirection.Outbound, "+15550001111", "test"), Ct);
        var writer = new CallStoreWriter(store.Calls, store.Turns, store.Events, NullLogger<CallStoreWriter>.Instance, TimeProvider.System);
        await writer.StartAsync(Ct);
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

        for (var seq = 0; seq < 1000; seq++)
        {
            await writer.AppendTurnAsync(new TurnRecord("c1", seq, seq % 2 == 0 ? Speaker.Caller : Speaker.Agent, $"turn {seq}",
                t0.AddSeconds(seq), t0.AddSeconds(seq + 1), false, new TurnLatency(VoiceToVoice: seq)), Ct);
        }

        await writer.RecordEventAsync(new CallEvent("ev-1", "c1", "call.hangup", t0), Ct);
        await writer.DisposeAsync();

        var turns = await store.Turns.GetTurnsAsync("c1", Ct);
        Assert.Equal(Enumerable.Range(0, 1000), turns.Select(t => t.Seq));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (int?)i), turns.Select(t => t.Latency.VoiceToVoice));
        Assert.Equal("turn 999", turns[^1].Text);
        Assert.Equal(["ev-1"], (await store.Events.GetEventsAsync("c1", Ct)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Writer_WriteKeepsFailing_RetriesThenLogsItLostAndGoesOn()
    {
        await using var store = new TestStorage(StorageOptions.Sqlite(Path.Combine(directory, "calls.db"), "test"));
        await store.MigrateAsync(Ct);
        await store.Calls.InsertCallAsync(new NewCall("c1", CallDirection.Outbound, "+15550001111", "test"), Ct);
        var logger = new ListLogger();
        var writer = new CallStoreWriter(store.Calls, store.Turns, store.Events, logger, new InstantDelays());
        await writer.StartAsync(Ct);
        var now = DateTimeOffset.UtcNow;

        await writer.AppendTurnAsync(new TurnRecord("no-such-call", 0, Speaker.Caller, "lost", now, now, false, new TurnLatency()), Ct);
        await writer.AppendTurnAsync(new TurnRecord("c1", 0, Speaker.Caller, "kept", now, now, false, new TurnLatency()), Ct);
        await writer.DisposeAsync();

        Assert.Equal(["kept"], (await store.Turns.GetTurnsAsync("c1", Ct)).Select(t => t.Text));
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

        await using var reopened = new TestStorage(StorageOptions.Sqlite(Path.Combine(directory, "host.db"), "node-7"));
        Assert.Empty(await reopened.MigrateAsync(Ct));
        Assert.Equal(["hello"], (await reopened.Turns.GetTurnsAsync("c1", Ct)).Select(t => t.Text));
        Assert.Equal("node-7", (await reopened.Calls.GetCallAsync("c1", Ct))?.InstanceId);
    }

    [Fact]
    public async Task Writer_StoreDownFiveMinutes_WaitsThenStoresEveryWriteInOrder()
    {
        var clock = new WatchedClock();
        var store = new FlakyStore { Down = true };
        var logger = new ListLogger();
        var writer = new CallStoreWriter(store, store, store, logger, clock);
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        Assert.True(writer.TryAppendTurn(Turn("c1", 0, t0)));
        Assert.True(writer.TrySetAnswered("c1"));
        Assert.True(writer.TryAppendTurn(Turn("c1", 1, t0)));
        await writer.RecordEventAsync(new CallEvent("ev-1", "c1", "call.hangup", t0), Ct);
        var end = writer.EndCallAsync("c1", CallStatus.Completed, "caller_hung_up", "normal_clearing", Ct);
        await writer.StartAsync(Ct);

        var delays = new List<TimeSpan>();
        while (delays.Sum(d => d.TotalMinutes) < 5)
        {
            delays.Add(await clock.AdvanceToNextDelayAsync());
        }

        Assert.False(end.IsCompleted);
        Assert.Empty(store.Stored);
        Assert.All(store.Failed, write => Assert.Equal("turn c1 0", write));
        Assert.Equal([200, 400, 800, 1600, 3200, 5000, 5000], delays.Take(7).Select(d => d.TotalMilliseconds));
        Assert.All(delays.Skip(5), d => Assert.Equal(TimeSpan.FromSeconds(5), d));

        store.Down = false;
        delays.Add(await clock.AdvanceToNextDelayAsync());
        await end;

        Assert.Equal(["turn c1 0", "answer c1", "turn c1 1", "event ev-1", "end c1 completed"], store.Stored);
        Assert.Equal(
            [
                (LogLevel.Warning, "The call store is unreachable; 5 writes wait in order and are retried until it is back"),
                (LogLevel.Warning, $"The call store is back after {delays.Sum(d => d.TotalSeconds):0.0} s; 5 writes waited and are stored now, in order"),
            ],
            logger.Entries);
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task Writer_WriteFailsForGood_GivenUpAfterItsRetriesAndTheQueueGoesOn()
    {
        var clock = new WatchedClock();
        var store = new FlakyStore { Broken = "turn c1 0" };
        var logger = new ListLogger();
        var writer = new CallStoreWriter(store, store, store, logger, clock);
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        Assert.True(writer.TryAppendTurn(Turn("c1", 0, t0)));
        Assert.True(writer.TryAppendTurn(Turn("c1", 1, t0)));
        var end = writer.EndCallAsync("c1", CallStatus.Completed, "caller_hung_up", null, Ct);
        await writer.StartAsync(Ct);

        Assert.Equal(TimeSpan.FromMilliseconds(200), await clock.AdvanceToNextDelayAsync());
        Assert.Equal(TimeSpan.FromSeconds(1), await clock.AdvanceToNextDelayAsync());
        Assert.Equal(TimeSpan.FromSeconds(5), await clock.AdvanceToNextDelayAsync());
        await end;

        Assert.Equal(["turn c1 1", "end c1 completed"], store.Stored);
        Assert.Equal(4, store.Failed.Count);
        Assert.Equal((LogLevel.Error, "A turn of call c1 was not stored after 4 attempts"), logger.Entries[^1]);
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task Writer_StoppedDuringOutage_KeepsRetryingUntilTheShutdownTokenFires()
    {
        var clock = new WatchedClock();
        var store = new FlakyStore { Down = true };
        var logger = new ListLogger();
        var writer = new CallStoreWriter(store, store, store, logger, clock);
        Assert.True(writer.TryAppendTurn(Turn("c1", 0, DateTimeOffset.UnixEpoch)));
        var end = writer.EndCallAsync("c1", CallStatus.Completed, "shutdown", null, Ct);
        await writer.StartAsync(Ct);
        await clock.AdvanceToNextDelayAsync();

        using var shutdown = new CancellationTokenSource();
        var stopping = writer.StopAsync(shutdown.Token);
        await clock.AdvanceToNextDelayAsync();
        await clock.AdvanceToNextDelayAsync();
        Assert.False(stopping.IsCompleted);
        Assert.Equal(4, store.Failed.Count);

        await shutdown.CancelAsync();
        await stopping;
        await end;

        Assert.Empty(store.Stored);
        Assert.Equal((LogLevel.Error, "2 queued turns/events were not stored"), logger.Entries[^1]);
        await writer.DisposeAsync();
    }

    [Fact]
    public void IsTransient_UnreachableOrBusyStore_IsAnOutage_ABugIsNot()
    {
        Assert.True(CallStoreWriter.IsTransient(new SqliteException("database is locked", 5)));
        Assert.True(CallStoreWriter.IsTransient(new SqliteException("database table is locked", 6)));
        Assert.True(CallStoreWriter.IsTransient(new SqliteException("unable to open database file", 14)));
        Assert.True(CallStoreWriter.IsTransient(new SqliteException("disk I/O error", 10, 10 | (4 << 8))));
        Assert.True(CallStoreWriter.IsTransient(new SqliteException("database or disk is full", 13)));
        Assert.True(CallStoreWriter.IsTransient(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(CallStoreWriter.IsTransient(new PostgresException("the database system is starting up", "FATAL", "FATAL", "57P03")));
        Assert.True(CallStoreWriter.IsTransient(new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01")));
        Assert.True(CallStoreWriter.IsTransient(new TimeoutException()));
        Assert.True(CallStoreWriter.IsTransient(new OperationCanceledException()));

        Assert.False(CallStoreWriter.IsTransient(new SqliteException("FOREIGN KEY constraint failed", 19)));
        Assert.False(CallStoreWriter.IsTransient(new SqliteException("no such table: turns", 1)));
        Assert.False(CallStoreWriter.IsTransient(new PostgresException("duplicate key value", "ERROR", "ERROR", "23505")));
        Assert.False(CallStoreWriter.IsTransient(new InvalidOperationException()));
    }

    [Fact]
    public async Task Writer_SqliteLockedByAnotherConnection_WaitsForTheLockThenStores()
    {
        var options = StorageOptions.Sqlite(Path.Combine(directory, "calls.db"), "test");
        await using var store = new TestStorage(options);
        await store.MigrateAsync(Ct);
        await store.Calls.InsertCallAsync(new NewCall("c1", CallDirection.Outbound, "+15550001111", "test"), Ct);
        var logger = new ListLogger();
        var writer = new CallStoreWriter(store.Calls, store.Turns, store.Events, logger, TimeProvider.System);
        await writer.StartAsync(Ct);

        await using (var locker = new SqliteConnection(options.ConnectionString))
        {
            await locker.OpenAsync(Ct);
            await using var transaction = await locker.BeginTransactionAsync(Ct);
            await using (var write = locker.CreateCommand())
            {
                write.CommandText = "UPDATE calls SET name = 'locked' WHERE id = 'c1'";
                await write.ExecuteNonQueryAsync(Ct);
            }

            Assert.True(writer.TryAppendTurn(Turn("c1", 0, DateTimeOffset.UtcNow)));
            await Wait.UntilAsync(() => logger.Entries.Any(e => e.Message.StartsWith("The call store is unreachable", StringComparison.Ordinal)), "the writer to meet the lock");
            await transaction.CommitAsync(Ct);
        }

        await writer.EndCallAsync("c1", CallStatus.Completed, "caller_hung_up", null, Ct);
        Assert.Equal([0], (await store.Turns.GetTurnsAsync("c1", Ct)).Select(t => t.Seq));
        Assert.Equal(CallStatus.Completed, (await store.Calls.GetCallAsync("c1", Ct))?.Status);
        Assert.Contains(logger.Entries, e => e.Message.StartsWith("The call store is back after", StringComparison.Ordinal));
        await writer.DisposeAsync();
    }

    private static TurnRecord Turn(string callId, int seq, DateTimeOffset at) =>
        new(callId, seq, seq % 2 == 0 ? Speaker.Caller : Speaker.Agent, $"turn {seq}", at, at, false, new TurnLatency());

    /// <summary>A database that is unreachable while <see cref="Down"/>, and refuses <see cref="Broken"/> for good.</summary>
    private sealed class FlakyStore : ICallStore, ITurnStore, IWebhookEventStore
    {
        private readonly Lock gate = new();
        private readonly List<string> stored = [];
        private readonly List<string> failed = [];

        public bool Down { get; set; }

        /// <summary>The one write (as named in <see cref="Stored"/>) that always fails, as a bug would.</summary>
        public string? Broken { get; init; }

        /// <summary>The writes stored, in order.</summary>
        public IReadOnlyList<string> Stored => Snapshot(stored);

        /// <summary>Every attempt that failed, in order.</summary>
        public IReadOnlyList<string> Failed => Snapshot(failed);

        public Task AppendTurnAsync(TurnRecord turn, CancellationToken cancellationToken) => Write($"turn {turn.CallId} {turn.Seq}");

        public Task SetAnsweredAsync(string id, CancellationToken cancellationToken) => Write($"answer {id}");

        public async Task<bool> SetEndedAsync(string id, CallStatus status, string? endReason, string? hangupCause, CancellationToken cancellationToken)
        {
            await Write($"end {id} {StorageText<CallStatus>.Of(status)}");
            return true;
        }

        public async Task<bool> TryRecordEventAsync(CallEvent callEvent, CancellationToken cancellationToken)
        {
            await Write($"event {callEvent.EventId}");
            return true;
        }

        public Task InsertCallAsync(NewCall call, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task SetDialedAsync(string id, DialResult telnyx, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<CallRecord?> GetCallAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<CallRecord?> FindByCallControlIdAsync(string callControlId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<CallPage> ListCallsAsync(CallQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<TurnRecord>> GetTurnsAsync(string callId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task ForgetEventAsync(string eventId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<CallEvent>> GetEventsAsync(string callId, CancellationToken cancellationToken) => throw new NotSupportedException();

        private Task Write(string write)
        {
            lock (gate)
            {
                if (Down || write == Broken)
                {
                    failed.Add(write);
                    return Task.FromException(Down ? new Unreachable() : new InvalidOperationException("a bug"));
                }

                stored.Add(write);
                return Task.CompletedTask;
            }
        }

        private IReadOnlyList<string> Snapshot(List<string> list)
        {
            lock (gate)
            {
                return [.. list];
            }
        }
    }

    /// <summary>What Npgsql throws when the server cannot be reached.</summary>
    private sealed class Unreachable() : DbException("The store is unreachable")
    {
        public override bool IsTransient => true;
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
