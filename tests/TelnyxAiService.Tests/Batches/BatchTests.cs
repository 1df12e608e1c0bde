using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Batches;

/// <summary>
/// Durable batches through the real service (a child process) and the Telnyx emulator, on real SQLite and
/// real PostgreSQL: pace, retries, cancel, progress, and a SIGKILL or a SIGTERM in the middle.
/// </summary>
public sealed class BatchTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("telnyx-ai-batch-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public Task Batch_200NumbersOnSqlite_HonoursPaceRetriesBusyAndReportsProgress() =>
        RunTwoHundredAsync($"sqlite:{Path.Combine(directory, "calls.db")}");

    [Fact]
    public async Task Batch_200NumbersOnPostgres_HonoursPaceRetriesBusyAndReportsProgress()
    {
        await using var schema = await PostgresSchema.CreateAsync(Ct);
        await RunTwoHundredAsync(schema.Url);
    }

    [Fact]
    public async Task Batch_Cancelled_DialsNoPendingNumberAndReportsCancelledItems()
    {
        var numbers = Enumerable.Range(0, 40).Select(Vendors.Number).ToList();
        await using var vendors = await Vendors.StartAsync(new Dictionary<string, CalleeScript>(), Ct);
        var port = ServiceProcess.FreePort();
        var settings = vendors.SettingsFor(port, $"sqlite:{Path.Combine(directory, "calls.db")}", "solo");
        settings["MAX_CONCURRENT_CALLS"] = "2";
        settings["CALLS_PER_SECOND"] = "4";
        await using var service = await ServiceProcess.StartAsync(port, settings, directory, Ct);

        var batchId = await Batch.PostAsync(service.Client, numbers);
        await TestHost.Wait.UntilAsync(() => vendors.PlacedDials().Count >= 3, "the first dials");
        var cancel = await service.Client.PostAsync($"/api/call/batch/{batchId}/cancel", null, Ct);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.NotNull((await cancel.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("cancelled_at").GetString());

        var progress = await Batch.WaitFinishedAsync(service.Client, batchId, TimeSpan.FromSeconds(60), () => service.Output);

        // A number posted after the cancel is dialled: a cancelled number dialled late would have been dialled by now.
        var later = Vendors.Number(numbers.Count);
        await Batch.PostAsync(service.Client, [later]);
        await TestHost.Wait.UntilAsync(() => vendors.PlacedDials().Any(d => d.Body.GetProperty("to").GetString() == later), "the later batch's dial");
        var dialled = vendors.PlacedDials().Select(d => d.Body.GetProperty("to").GetString()).Where(to => to != later).ToList();
        var items = Batch.Items(progress).ToList();
        var cancelled = items.Where(i => i.GetProperty("status").GetString() == "cancelled").ToList();
        Assert.InRange(cancelled.Count, 20, 37);
        Assert.Equal(cancelled.Count, Batch.Count(progress, "cancelled"));
        Assert.All(cancelled, i => Assert.DoesNotContain(i.GetProperty("phone").GetString(), dialled));
        Assert.All(cancelled, i => Assert.Equal(0, i.GetProperty("attempts").GetInt32()));
        Assert.Equal(numbers.Count - cancelled.Count, dialled.Count);
        Assert.Equal(numbers.Count - cancelled.Count, Batch.Count(progress, "completed"));
        Assert.Equal(dialled.Count, dialled.Distinct().Count());
    }

    [Fact]
    public async Task Batch_ServiceKilledMidway_FinishesAfterRestartDiallingEachAttemptOnce()
    {
        var numbers = Enumerable.Range(0, 60).Select(Vendors.Number).ToList();
        var busy = numbers.Where((_, i) => i % 10 == 0).ToHashSet();
        await using var vendors = await Vendors.StartAsync(busy.ToDictionary(n => n, _ => Vendors.Busy), Ct);
        var port = ServiceProcess.FreePort();
        var settings = vendors.SettingsFor(port, $"sqlite:{Path.Combine(directory, "calls.db")}", "solo");
        settings["MAX_CONCURRENT_CALLS"] = "6";
        settings["CALLS_PER_SECOND"] = "12";
        settings["BATCH_RETRY_BACKOFF_SECONDS"] = "0.3";
        string batchId;
        await using (var first = await ServiceProcess.StartAsync(port, settings, directory, Ct))
        {
            batchId = await Batch.PostAsync(first.Client, numbers);
            await TestHost.Wait.UntilAsync(() => vendors.PlacedDials().Count >= 20, "a third of the batch", TimeSpan.FromSeconds(60));
            await first.KillAsync();
        }

        var liveAtKill = vendors.Telnyx.Calls.Where(c => c.IsAlive && c.AnsweredAt is not null).Select(c => c.CallControlId).ToHashSet();
        var deliveredBefore = vendors.Telnyx.Webhooks.First(w => w.StatusCode == 200 && w.EventType == "call.answered");
        await using var second = await ServiceProcess.StartAsync(port, settings, directory, Ct);
        var progress = await Batch.WaitFinishedAsync(second.Client, batchId, TimeSpan.FromSeconds(120), () => second.Output);

        var placed = vendors.PlacedDials();
        Assert.All(placed.GroupBy(d => d.CommandId), g => Assert.Single(g));
        var items = Batch.Items(progress).ToList();
        Assert.Equal(numbers.Count, items.Count);
        foreach (var item in items)
        {
            var phone = item.GetProperty("phone").GetString()!;
            var dials = placed.Count(d => d.Body.GetProperty("to").GetString() == phone);
            var expected = busy.Contains(phone) ? ("busy", 3, 3) : ("completed", 1, 1);
            if (expected != (item.GetProperty("status").GetString()!, item.GetProperty("attempts").GetInt32(), dials))
            {
                Assert.Fail($"Expected {expected}, {dials} dials: {item}\n{await Batch.CallAsync(second.Client, item.GetProperty("call_id").GetString()!)}\n{second.Output}");
            }
        }

        Assert.All(vendors.Telnyx.Calls.Where(c => c.AnsweredAt is not null).GroupBy(c => c.To), g => Assert.Single(g));
        foreach (var item in items.Where(i => i.GetProperty("status").GetString() == "completed"))
        {
            var call = await Batch.CallAsync(second.Client, item.GetProperty("call_id").GetString()!);
            Assert.Equal("completed", call.GetProperty("call").GetProperty("status").GetString());
            if (!liveAtKill.Contains(call.GetProperty("call").GetProperty("call_control_id").GetString()!))
            {
                Batch.AssertFullTranscript(call);
            }
        }

        Assert.Empty(await Batch.ListCallsAsync(second.Client, $"batch={batchId}&status=interrupted_by_restart&limit=100"));
        var resumed = (await Batch.ListCallsAsync(second.Client, $"batch={batchId}&limit=100"))
            .Where(c => liveAtKill.Contains(c.GetProperty("call_control_id").GetString()!)).ToList();
        Assert.NotEmpty(liveAtKill);
        Assert.Equal(liveAtKill.Count, resumed.Count);
        Assert.All(resumed, c => Assert.Equal("completed", c.GetProperty("status").GetString()));

        using var replay = new HttpRequestMessage(HttpMethod.Post, "/webhook/telnyx") { Content = new ByteArrayContent(deliveredBefore.Body) };
        replay.Content.Headers.ContentType = new("application/json");
        replay.Headers.Add("telnyx-signature-ed25519", deliveredBefore.Signature);
        replay.Headers.Add("telnyx-timestamp", deliveredBefore.SignatureTimestamp);
        var answer = await second.Client.SendAsync(replay, Ct);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("duplicate", (await answer.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Batch_ServiceStoppedBySigtermMidway_DialsNothingAfterAndRestartDialsEachNumberOnce()
    {
        var numbers = Enumerable.Range(0, 16).Select(Vendors.Number).ToList();
        await using var vendors = await Vendors.StartAsync(new Dictionary<string, CalleeScript>(), Ct);
        var port = ServiceProcess.FreePort();
        var settings = vendors.SettingsFor(port, $"sqlite:{Path.Combine(directory, "calls.db")}", "solo");
        settings["MAX_CONCURRENT_CALLS"] = "4";
        settings["CALLS_PER_SECOND"] = "2";
        string batchId;
        DateTimeOffset terminatedAt;
        await using (var first = await ServiceProcess.StartAsync(port, settings, directory, Ct))
        {
            batchId = await Batch.PostAsync(first.Client, numbers);
            await TestHost.Wait.UntilAsync(() => vendors.PlacedDials().Count >= 5, "the first five dials");
            terminatedAt = DateTimeOffset.UtcNow;
            Assert.Equal(0, await first.TerminateAsync(TimeSpan.FromSeconds(40)));
        }

        var afterStop = vendors.PlacedDials().Where(d => d.Timestamp > terminatedAt).ToList();
        Assert.Empty(afterStop);

        await using var second = await ServiceProcess.StartAsync(port, settings, directory, Ct);
        var progress = await Batch.WaitFinishedAsync(second.Client, batchId, TimeSpan.FromSeconds(60), () => second.Output);

        var placed = vendors.PlacedDials();
        Assert.Equal(numbers.Count, placed.Count);
        Assert.Equal(numbers.Order(StringComparer.Ordinal), placed.Select(d => d.Body.GetProperty("to").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(Batch.Items(progress), i => Assert.Equal(1, i.GetProperty("attempts").GetInt32()));
    }

    private async Task RunTwoHundredAsync(string databaseUrl)
    {
        const int MaxConcurrent = 8;
        const double PerSecond = 25;
        var numbers = Enumerable.Range(0, 200).Select(Vendors.Number).ToList();
        var busy = numbers.Where((_, i) => i % 20 == 7).ToHashSet();
        await using var vendors = await Vendors.StartAsync(busy.ToDictionary(n => n, _ => Vendors.Busy), Ct);
        var port = ServiceProcess.FreePort();
        var settings = vendors.SettingsFor(port, databaseUrl, "solo");
        settings["MAX_CONCURRENT_CALLS"] = MaxConcurrent.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["CALLS_PER_SECOND"] = PerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["BATCH_RETRY_BACKOFF_SECONDS"] = "0.2";
        await using var service = await ServiceProcess.StartAsync(port, settings, directory, Ct);

        var batchId = await Batch.PostAsync(service.Client, numbers);
        var progress = await Batch.WaitFinishedAsync(service.Client, batchId, TimeSpan.FromSeconds(180), () => service.Output);

        Assert.Equal(190, Batch.Count(progress, "completed"));
        Assert.Equal(10, Batch.Count(progress, "busy"));
        Assert.Equal(200, progress.GetProperty("total").GetInt32());
        foreach (var status in (string[])["pending", "dialing", "failed", "no_answer", "cancelled"])
        {
            Assert.Equal(0, Batch.Count(progress, status));
        }

        var placed = vendors.PlacedDials();
        Assert.Equal(190 + (3 * 10), placed.Count);
        Assert.All(placed.GroupBy(d => d.CommandId), g => Assert.Single(g));
        foreach (var item in Batch.Items(progress))
        {
            var phone = item.GetProperty("phone").GetString()!;
            var dials = placed.Where(d => d.Body.GetProperty("to").GetString() == phone).OrderBy(d => d.Timestamp).ToList();
            if (busy.Contains(phone))
            {
                Assert.Equal(("busy", "busy", 3, 3), (item.GetProperty("status").GetString(), item.GetProperty("last_outcome").GetString(), item.GetProperty("attempts").GetInt32(), dials.Count));
                Assert.True(dials[1].Timestamp - dials[0].Timestamp >= TimeSpan.FromSeconds(0.2), "the first retry waits the backoff");
                Assert.True(dials[2].Timestamp - dials[1].Timestamp >= TimeSpan.FromSeconds(0.4), "the second retry waits twice the backoff");
            }
            else
            {
                Assert.Equal(("completed", 1, 1), (item.GetProperty("status").GetString(), item.GetProperty("attempts").GetInt32(), dials.Count));
            }
        }

        var calls = vendors.Telnyx.Calls;
        var moments = calls.SelectMany(c => new[] { (At: c.StartTime, Delta: 1), (At: c.EndTime!.Value, Delta: -1) }).OrderBy(m => m.At).ThenBy(m => m.Delta);
        var live = 0;
        var mostLive = 0;
        foreach (var (_, delta) in moments)
        {
            live += delta;
            mostLive = Math.Max(mostLive, live);
        }

        Assert.InRange(mostLive, 2, MaxConcurrent);
        var times = placed.Select(d => d.Timestamp).Order().ToList();
        for (var i = 0; i < times.Count; i++)
        {
            var inOneSecond = times.Skip(i).TakeWhile(t => t - times[i] < TimeSpan.FromSeconds(1)).Count();
            Assert.True(inOneSecond <= PerSecond + 2, $"{inOneSecond} dials within one second from dial {i}");
        }

        Assert.True(times[^1] - times[0] >= TimeSpan.FromSeconds((times.Count - 1) / PerSecond * 0.9));

        var sample = Batch.Items(progress).First(i => i.GetProperty("status").GetString() == "completed");
        var call = await Batch.CallAsync(service.Client, sample.GetProperty("call_id").GetString()!);
        Assert.Equal(("completed", batchId, "normal_clearing"), (call.GetProperty("call").GetProperty("status").GetString(), call.GetProperty("call").GetProperty("batch_id").GetString(), call.GetProperty("call").GetProperty("hangup_cause").GetString()));
        Batch.AssertFullTranscript(call);
        var events = call.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event_type").GetString()).ToList();
        Assert.Contains("call.answered", events);
        Assert.Contains("call.hangup", events);

        var stored = await Batch.ListCallsAsync(service.Client, $"batch={batchId}&limit=37");
        Assert.Equal(placed.Count, stored.Count);
        Assert.Equal(placed.Count, stored.Select(c => c.GetProperty("call_id").GetString()).Distinct().Count());
    }
}
