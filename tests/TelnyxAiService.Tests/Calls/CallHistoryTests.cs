using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Storage;
using TelnyxAiService.Tests.Batches;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Calls;

/// <summary>The read API over stored calls and batches: paging, filters, one call's record, and the 400/404 answers.</summary>
public sealed class CallHistoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Calls_PagedByCursor_ReturnEveryCallOnceNewestFirstAndRejectBadInput()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                MediaStreams = false,
                Telnyx = new TelnyxEmulatorOptions { Callee = Vendors.Talker, SpeakTimePerCharacter = TimeSpan.FromMilliseconds(1), LineDelay = TimeSpan.FromMilliseconds(20) },
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(Vendors.AgentReply) },
                Settings = { ["CALLS_PER_SECOND"] = "50" },
            },
            Ct);
        var client = harness.Client;

        var rejected = await client.PostAsJsonAsync("/api/call/batch", new { calls = new object[] { new { telefono = "+34600000001" }, new { telefono = "12" } } }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Contains("calls[1].telefono", await rejected.Content.ReadAsStringAsync(Ct));

        var batchId = await Batch.PostAsync(client, Enumerable.Range(0, 12).Select(Vendors.Number));
        await Batch.WaitFinishedAsync(client, batchId, TimeSpan.FromSeconds(60));
        var other = await client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34699999999" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);

        var pages = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/api/calls?limit=5{(cursor is null ? "" : $"&cursor={cursor}")}", Ct);
            pages.Add(page);
            cursor = page.TryGetProperty("next_cursor", out var next) ? next.GetString() : null;
        }
        while (cursor is not null);
        Assert.Equal([5, 5, 3], pages.Select(p => p.GetProperty("calls").GetArrayLength()));
        var all = pages.SelectMany(p => p.GetProperty("calls").EnumerateArray()).ToList();
        Assert.Equal(13, all.Select(c => c.GetProperty("call_id").GetString()).Distinct().Count());
        var created = all.Select(c => c.GetProperty("created_at").GetDateTimeOffset()).ToList();
        Assert.Equal(created.OrderDescending(), created);
        Assert.Equal("+34699999999", all[0].GetProperty("phone").GetString());

        Assert.Equal(12, (await Batch.ListCallsAsync(client, $"batch={batchId}&limit=4")).Count);
        Assert.Equal(12, (await Batch.ListCallsAsync(client, $"batch={batchId}&status=completed")).Count);
        Assert.Empty(await Batch.ListCallsAsync(client, $"batch={batchId}&status=busy"));

        var one = await Batch.CallAsync(client, all[^1].GetProperty("call_id").GetString()!);
        Batch.AssertFullTranscript(one);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/calls/no-such-call", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/call/batch/no-such-batch", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/api/call/batch/no-such-batch/cancel", null, Ct)).StatusCode);
        foreach (var query in (string[])["cursor=not-a-cursor", "cursor=bm9jb2xvbg", "limit=0", "limit=1001", "limit=ten", "status=ringing"])
        {
            var response = await client.GetAsync($"/api/calls?{query}", Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task Calls_FilteredByDirectionPhoneAndTime_PageThroughTheMatchesAndRejectBadValues()
    {
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false }, Ct);
        var client = harness.Client;
        var store = harness.Services.GetRequiredService<ICallStore>();
        for (var i = 0; i < 9; i++)
        {
            await store.InsertCallAsync(
                new NewCall($"call-{i}", i % 3 == 0 ? CallDirection.Inbound : CallDirection.Outbound, i % 2 == 0 ? "+34600111222" : "+34600111333", "elsewhere"), Ct);
            await store.SetEndedAsync($"call-{i}", CallStatus.Completed, "remote_hangup", null, Ct);
            await Task.Delay(3, Ct);
        }

        var all = await Batch.ListCallsAsync(client, "limit=1000");
        var created = all.ToDictionary(c => c.GetProperty("call_id").GetString()!, c => c.GetProperty("created_at").GetDateTimeOffset());
        var middle = created["call-4"];
        await AssertListsAsync("direction=inbound", i => i % 3 == 0);
        await AssertListsAsync("direction=outbound&phone=34600111333", i => i % 3 != 0 && i % 2 == 1);
        await AssertListsAsync("phone=+34600111222", i => i % 2 == 0);
        await AssertListsAsync("phone=%2B34600111333", i => i % 2 == 1);
        await AssertListsAsync($"from={Iso(middle)}", i => created[$"call-{i}"] >= middle);
        await AssertListsAsync($"to={Iso(middle)}", i => created[$"call-{i}"] < middle);
        await AssertListsAsync($"from={Uri.EscapeDataString(middle.ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture))}&direction=inbound", i => i is 6);
        await AssertListsAsync($"from={middle.UtcDateTime:yyyy-MM-dd}&to={middle.UtcDateTime.AddDays(1):yyyy-MM-dd}", i => created[$"call-{i}"].UtcDateTime.Date == middle.UtcDateTime.Date);
        await AssertListsAsync($"from={middle.UtcDateTime.AddDays(1):yyyy-MM-dd}", _ => false);

        foreach (var (query, parameter) in ((string, string)[])[
            ("direction=sideways", "direction"), ("phone=12", "phone"), ("phone=%2B%2B34600111222", "phone"), ("phone=0034600111222", "phone"),
            ("from=yesterday", "from"), ("from=2026-13-01", "from"), ("to=2026-03-01T25:00Z", "to"), ("to=01/03/2026", "to"),
            ("from=2026-03-02&to=2026-03-01T23:59:59Z", "to"), ("from=2026-03-02&to=2026-03-02", "to")])
        {
            var response = await client.GetAsync($"/api/calls?{query}", Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {response.StatusCode}");
            var errors = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("errors");
            Assert.Equal([parameter], errors.EnumerateObject().Select(e => e.Name));
        }

        async Task AssertListsAsync(string query, Func<int, bool> matches) =>
            Assert.Equal(
                Enumerable.Range(0, 9).Where(matches).Reverse().Select(i => $"call-{i}"),
                (await Batch.ListCallsAsync(client, $"{query}&limit=2")).Select(c => c.GetProperty("call_id").GetString()));

        static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }
}
