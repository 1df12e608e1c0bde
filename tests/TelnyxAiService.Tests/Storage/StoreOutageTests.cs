using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Llm;
using TelnyxAiService.Storage;
using TelnyxAiService.Tests.Batches;
using TelnyxAiService.Tests.Hostile;
using TelnyxAiService.Tests.Recordings;
using TelnyxAiService.Tests.Telephony;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Storage;

/// <summary>
/// A real PostgreSQL made unreachable through a TCP proxy the test cuts and restores (the shared server is never
/// stopped), and a SQLite file locked by another connection: nothing queued is lost, and the edge answers 503 with
/// Retry-After at once instead of hanging.
/// </summary>
public sealed class StoreOutageTests
{
    private static readonly WebhookSigner Signer = new(HostileWebhookTests.Seed);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Outage_PostgresCut_TurnsAndEndWaitThenAreStoredInOrder()
    {
        await using var schema = await PostgresSchema.CreateAsync(Ct);
        await using var proxy = TcpCut.Start(new Uri(schema.Url));
        await using var store = new TestStorage(StorageOptions.Postgres(proxy.Url, "test"));
        await store.MigrateAsync(Ct);
        await store.Calls.InsertCallAsync(new NewCall("c1", CallDirection.Outbound, "+15550001111", "test"), Ct);
        var logger = new ListLogger<CallStoreWriter>();
        var clock = new WatchedClock();
        var writer = new CallStoreWriter(store.Calls, store.Turns, store.Events, logger, clock);

        proxy.Cut();
        var now = DateTimeOffset.UtcNow;
        for (var seq = 0; seq < 20; seq++)
        {
            Assert.True(writer.TryAppendTurn(new TurnRecord("c1", seq, seq % 2 == 0 ? Speaker.Caller : Speaker.Agent, $"turn {seq}", now, now, false, new TurnLatency())));
        }

        var end = writer.EndCallAsync("c1", CallStatus.Completed, "caller_hung_up", "normal_clearing", Ct);
        await writer.StartAsync(Ct);
        var waited = TimeSpan.Zero;
        while (waited < TimeSpan.FromSeconds(10))
        {
            waited += await clock.AdvanceToNextDelayAsync();
        }

        var retry = await clock.NextDelayAsync();
        Assert.False(end.IsCompleted);

        proxy.Restore();
        clock.Advance(retry);
        await end.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(Enumerable.Range(0, 20), (await store.Turns.GetTurnsAsync("c1", Ct)).Select(t => t.Seq));
        Assert.Equal(CallStatus.Completed, (await store.Calls.GetCallAsync("c1", Ct))?.Status);
        Assert.Collection(
            logger.Entries,
            start => Assert.Equal((LogLevel.Warning, "The call store is unreachable; 21 writes wait in order and are retried until it is back"), start),
            back => Assert.EndsWith("s; 21 writes waited and are stored now, in order", back.Message, StringComparison.Ordinal));
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task Outage_PostgresCut_HealthAndWebhooksAnswer503WithRetryAfter()
    {
        await using var schema = await PostgresSchema.CreateAsync(Ct);
        await using var proxy = TcpCut.Start(new Uri(schema.Url));
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                MediaStreams = false,
                Telnyx = new TelnyxEmulatorOptions { SigningKeySeed = HostileWebhookTests.Seed },
                Settings = new() { ["DATABASE_URL"] = proxy.Url },
            },
            Ct);
        Assert.Equal(HttpStatusCode.OK, (await PostWebhookAsync(harness.Client)).StatusCode);

        proxy.Cut();
        await Wait.UntilAsync(async () => (await harness.Client.GetAsync("/api/health", Ct)).StatusCode == HttpStatusCode.ServiceUnavailable, "health to see the store gone");
        using (var refused = await PostWebhookAsync(harness.Client))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        }

        proxy.Restore();
        await Wait.UntilAsync(async () => (await harness.Client.GetAsync("/api/health", Ct)).StatusCode == HttpStatusCode.OK, "health to see the store back");
        Assert.Equal(HttpStatusCode.OK, (await PostWebhookAsync(harness.Client)).StatusCode);
    }

    [Fact]
    public async Task Outage_SqliteLocked_WebhookAnswers503WithinSeconds()
    {
        var path = Path.Combine(Path.GetTempPath(), $"telnyx-ai-test-{Guid.NewGuid():N}.db");
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                MediaStreams = false,
                Telnyx = new TelnyxEmulatorOptions { SigningKeySeed = HostileWebhookTests.Seed },
                Settings = new() { ["DATABASE_URL"] = $"sqlite:{path}" },
            },
            Ct);
        Assert.Equal(HttpStatusCode.OK, (await PostWebhookAsync(harness.Client)).StatusCode);

        await using (var locker = new SqliteConnection(StorageOptions.Sqlite(path, "test").ConnectionString))
        {
            await locker.OpenAsync(Ct);
            await using var transaction = locker.BeginTransaction(deferred: false);
            var clock = Stopwatch.StartNew();
            using var refused = await PostWebhookAsync(harness.Client);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        }

        Assert.Equal(HttpStatusCode.OK, (await PostWebhookAsync(harness.Client)).StatusCode);
    }

    /// <summary>A genuine, correctly signed call.answered for no call of ours, with a fresh event id.</summary>
    private static async Task<HttpResponseMessage> PostWebhookAsync(HttpClient client)
    {
        var body = JsonMutation.With(
            Encoding.UTF8.GetString(TelnyxFixtures.Bytes("webhook_call.answered.recorded.json")), "data.id", JsonValue.Create(Guid.NewGuid().ToString()));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/telnyx") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        request.Headers.Add("telnyx-signature-ed25519", Signer.Sign(timestamp, body));
        request.Headers.Add("telnyx-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        return await client.SendAsync(request, Ct);
    }

    /// <summary>
    /// A TCP proxy on a loopback port to the PostgreSQL of a URL. <see cref="Cut"/> closes every connection through it
    /// and closes new ones as soon as they arrive, as a database that went away; <see cref="Restore"/> lets them through.
    /// </summary>
    private sealed class TcpCut : IAsyncDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource stopping = new();
        private readonly Lock gate = new();
        private readonly List<TcpClient> open = [];
        private readonly string host;
        private readonly int port;
        private Task accepting = Task.CompletedTask;
        private bool cut;

        private TcpCut(Uri database)
        {
            host = database.Host;
            port = database.IsDefaultPort || database.Port < 0 ? 5432 : database.Port;
            listener.Start();
            Url = new UriBuilder(database) { Port = ((IPEndPoint)listener.LocalEndpoint).Port }.Uri.ToString();
        }

        /// <summary>The database URL, through the proxy.</summary>
        public string Url { get; }

        public static TcpCut Start(Uri database)
        {
            var proxy = new TcpCut(database);
            proxy.accepting = proxy.AcceptAsync();
            return proxy;
        }

        public void Cut()
        {
            lock (gate)
            {
                cut = true;
                foreach (var client in open)
                {
                    client.Dispose();
                }

                open.Clear();
            }
        }

        public void Restore()
        {
            lock (gate)
            {
                cut = false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stopping.CancelAsync();
            listener.Stop();
            await accepting;
            Cut();
            stopping.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!stopping.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync(stopping.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = ForwardAsync(client);
            }
        }

        private async Task ForwardAsync(TcpClient client)
        {
            var server = new TcpClient();
            lock (gate)
            {
                if (cut)
                {
                    client.Dispose();
                    server.Dispose();
                    return;
                }

                open.Add(client);
                open.Add(server);
            }

            try
            {
                await server.ConnectAsync(host, port, stopping.Token);
                var clientStream = client.GetStream();
                var serverStream = server.GetStream();
                await Task.WhenAny(clientStream.CopyToAsync(serverStream, stopping.Token), serverStream.CopyToAsync(clientStream, stopping.Token));
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
            }
            finally
            {
                client.Dispose();
                server.Dispose();
            }
        }
    }
}
