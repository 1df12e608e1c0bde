using Microsoft.Extensions.Time.Testing;
using TelnyxAiService.CallEvents;
using TelnyxAiService.Llm;
using TelnyxAiService.Storage;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Tests.Storage;

/// <summary>
/// The behaviour every store (<see cref="ICallStore"/>, <see cref="ITurnStore"/>, <see cref="IWebhookEventStore"/>,
/// <see cref="IBatchStore"/>, <see cref="ILeaseStore"/>) must have; runs against real SQLite and real PostgreSQL.
/// </summary>
public abstract class CallStoreContractTests : IAsyncLifetime
{
    private readonly List<TestStorage> stores = [];

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A new store instance on this test's own (empty) database, not yet migrated.</summary>
    private protected abstract Task<TestStorage> CreateStoreAsync(TimeProvider? time = null);

    protected abstract ValueTask DeleteDatabaseAsync();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        await DeleteDatabaseAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Call_InsertDialAnswerEnd_RoundTripsEveryField()
    {
        var store = await OpenAsync();
        await store.Calls.InsertCallAsync(new NewCall("c1", CallDirection.Outbound, "+15550001111", "i1", "Ann", "ctx", "Hello"), Ct);

        var queued = await store.Calls.GetCallAsync("c1", Ct);
        Assert.NotNull(queued);
        Assert.Equal((CallStatus.Queued, CallDirection.Outbound, "+15550001111", "Ann", "ctx", "Hello", "i1"),
            (queued.Status, queued.Direction, queued.Phone, queued.Name, queued.Context, queued.Greeting, queued.InstanceId));
        Assert.Null(queued.CallControlId);
        Assert.Null(queued.DialedAt);
        Assert.InRange(queued.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));

        await store.Calls.SetDialedAsync("c1", new DialResult("ccid-1", "leg-1", "session-1"), Ct);
        var dialed = await store.Calls.FindByCallControlIdAsync("ccid-1", Ct);
        Assert.NotNull(dialed);
        Assert.Equal(("c1", CallStatus.Dialing, "leg-1", "session-1"), (dialed.Id, dialed.Status, dialed.CallLegId, dialed.CallSessionId));
        Assert.NotNull(dialed.DialedAt);

        await store.Calls.SetAnsweredAsync("c1", Ct);
        Assert.Equal(CallStatus.Answered, (await store.Calls.GetCallAsync("c1", Ct))!.Status);

        Assert.True(await store.Calls.SetEndedAsync("c1", CallStatus.Completed, "hangup", "normal_clearing", Ct));
        Assert.False(await store.Calls.SetEndedAsync("c1", CallStatus.Failed, "error", null, Ct));
        await store.Calls.SetAnsweredAsync("c1", Ct);

        var ended = await store.Calls.GetCallAsync("c1", Ct);
        Assert.NotNull(ended);
        Assert.Equal((CallStatus.Completed, "hangup", "normal_clearing"), (ended.Status, ended.EndReason, ended.HangupCause));
        Assert.NotNull(ended.AnsweredAt);
        Assert.NotNull(ended.EndedAt);
        Assert.Null(await store.Calls.GetCallAsync("missing", Ct));
        Assert.Null(await store.Calls.FindByCallControlIdAsync("missing", Ct));
    }

    [Fact]
    public async Task Turns_AppendedOutOfOrderAndRepeated_ReadBackInOrderWithLatency()
    {
        var store = await OpenAsync();
        await store.Calls.InsertCallAsync(new NewCall("c1", CallDirection.Inbound, "+15550001111", "i1"), Ct);
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        var agent = new TurnRecord("c1", 1, Speaker.Agent, "Hello, how can I help?", t0.AddSeconds(2), t0.AddSeconds(4), true,
            new TurnLatency(120, 340, 56, 210, 18, 744));
        var caller = new TurnRecord("c1", 0, Speaker.Caller, "Hi there", t0, t0.AddMilliseconds(1500), false, new TurnLatency());

        await store.Turns.AppendTurnAsync(agent, Ct);
        await store.Turns.AppendTurnAsync(caller, Ct);
        await store.Turns.AppendTurnAsync(caller with { Text = "a retried write" }, Ct);

        var turns = await store.Turns.GetTurnsAsync("c1", Ct);
        Assert.Equal([caller, agent], turns);
        Assert.Empty(await store.Turns.GetTurnsAsync("other", Ct));
    }

    [Fact]
    public async Task Events_SameIdAfterRestart_AreRecordedOnce()
    {
        var first = await OpenAsync();
        var received = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        var answered = new CallEvent("ev-1", "c1", "call.answered", received);
        Assert.True(await first.Events.TryRecordEventAsync(answered, Ct));
        Assert.False(await first.Events.TryRecordEventAsync(answered, Ct));
        await first.DisposeAsync();
        stores.Remove(first);

        var restarted = await OpenAsync();
        var other = await OpenAsync();
        Assert.False(await restarted.Events.TryRecordEventAsync(answered with { ReceivedAt = received.AddSeconds(9) }, Ct));
        Assert.False(await other.Events.TryRecordEventAsync(answered, Ct));
        var hangup = new CallEvent("ev-2", "c1", "call.hangup", received.AddSeconds(1));
        Assert.True(await other.Events.TryRecordEventAsync(hangup, Ct));

        Assert.Equal([answered, hangup], await restarted.Events.GetEventsAsync("c1", Ct));
    }

    [Fact]
    public async Task ListCalls_25CallsInPagesOf10_ReturnsEachOnceNewestFirst()
    {
        var store = await OpenAsync();
        for (var i = 0; i < 25; i++)
        {
            await store.Calls.InsertCallAsync(new NewCall($"call-{i:D2}", CallDirection.Outbound, "+15550001111", "i1", BatchId: i % 5 == 0 ? "b1" : null), Ct);
            if (i % 2 == 0)
            {
                await store.Calls.SetEndedAsync($"call-{i:D2}", CallStatus.Completed, "hangup", null, Ct);
            }
        }

        var seen = new List<CallRecord>();
        var pageSizes = new List<int>();
        string? cursor = null;
        do
        {
            var page = await store.Calls.ListCallsAsync(new CallQuery(Limit: 10, Cursor: cursor), Ct);
            pageSizes.Add(page.Calls.Count);
            seen.AddRange(page.Calls);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal([10, 10, 5], pageSizes);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"call-{i:D2}").Order(), seen.Select(c => c.Id).Order());
        Assert.Equal(seen.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id, StringComparer.Ordinal).Select(c => c.Id), seen.Select(c => c.Id));

        var completed = await store.Calls.ListCallsAsync(new CallQuery(Status: CallStatus.Completed, Limit: 100), Ct);
        Assert.Equal(13, completed.Calls.Count);
        Assert.All(completed.Calls, c => Assert.Equal(CallStatus.Completed, c.Status));
        Assert.Null(completed.NextCursor);

        var batch = await store.Calls.ListCallsAsync(new CallQuery(BatchId: "b1", Limit: 3), Ct);
        var rest = await store.Calls.ListCallsAsync(new CallQuery(BatchId: "b1", Limit: 3, Cursor: batch.NextCursor), Ct);
        Assert.Equal(["call-00", "call-05", "call-10", "call-15", "call-20"], batch.Calls.Concat(rest.Calls).Select(c => c.Id).Order());
        Assert.Null(rest.NextCursor);
    }

    [Fact]
    public async Task ListCalls_ByDirectionPhoneAndTime_PagesThroughTheMatchesOnlyNewestFirst()
    {
        var midnight = new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(midnight.AddHours(-1));
        var store = await OpenAsync(time);
        for (var i = 0; i < 30; i++)
        {
            await store.Calls.InsertCallAsync(
                new NewCall($"call-{i:D2}", i % 3 == 0 ? CallDirection.Inbound : CallDirection.Outbound, i % 2 == 0 ? "+15550001111" : "+15550002222", "i1"), Ct);
            if (i % 2 == 1)
            {
                time.Advance(TimeSpan.FromMinutes(10));
            }
        }

        // Two calls in each 10-minute step: call-12 and call-13 at midnight, call-24 and call-25 at 01:00.
        await AssertListsAsync(new CallQuery(Direction: CallDirection.Inbound), i => i % 3 == 0);
        await AssertListsAsync(new CallQuery(Phone: "+15550002222"), i => i % 2 == 1);
        await AssertListsAsync(new CallQuery(Phone: "+15550003333"), _ => false);
        await AssertListsAsync(new CallQuery(From: midnight, To: midnight.AddHours(1)), i => i is >= 12 and < 24);
        await AssertListsAsync(new CallQuery(From: midnight.AddTicks(5000), To: midnight.AddHours(1).AddTicks(5000)), i => i is >= 14 and < 26);
        await AssertListsAsync(new CallQuery(Direction: CallDirection.Inbound, Phone: "+15550001111", From: midnight), i => i % 6 == 0 && i >= 12);

        async Task AssertListsAsync(CallQuery query, Func<int, bool> matches)
        {
            var ids = new List<string>();
            string? cursor = null;
            do
            {
                var page = await store.Calls.ListCallsAsync(query with { Limit = 3, Cursor = cursor }, Ct);
                Assert.InRange(page.Calls.Count, page.NextCursor is null ? 0 : 3, 3);
                ids.AddRange(page.Calls.Select(c => c.Id));
                cursor = page.NextCursor;
            }
            while (cursor is not null);

            Assert.Equal(Enumerable.Range(0, 30).Where(matches).Reverse().Select(i => $"call-{i:D2}"), ids);
        }
    }

    [Fact]
    public async Task ListBatches_InPages_NewestFirstWithEachBatchsCounts()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        var store = await OpenAsync(time);
        for (var b = 0; b < 5; b++)
        {
            await store.Batches.CreateBatchAsync(new NewBatch($"b{b}", [.. Enumerable.Range(0, b + 1).Select(i => new NewBatchItem($"+1555000{b}00{i}"))]), Ct);
            if (b != 2)
            {
                time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        var claimed = Assert.Single(await store.Batches.ClaimDueItemsAsync("i1", 1, time.GetUtcNow(), Ct));
        Assert.Equal("b0:0", claimed.Id);
        Assert.True(await store.Batches.RecordItemOutcomeAsync(claimed.Id, BatchItemStatus.Completed, null, Ct));
        Assert.True(await store.Batches.CancelBatchAsync("b1", Ct));
        Assert.Single(await store.Batches.ClaimDueItemsAsync("i1", 1, time.GetUtcNow(), Ct));

        var first = await store.Batches.ListBatchesAsync(2, null, Ct);
        var second = await store.Batches.ListBatchesAsync(2, first.NextCursor, Ct);
        var third = await store.Batches.ListBatchesAsync(2, second.NextCursor, Ct);

        Assert.Equal(["b4", "b3"], first.Batches.Select(b => b.Id));
        Assert.Equal(["b2", "b1"], second.Batches.Select(b => b.Id));
        Assert.Equal(["b0"], third.Batches.Select(b => b.Id));
        Assert.Null(third.NextCursor);
        var all = first.Batches.Concat(second.Batches).Concat(third.Batches).ToDictionary(b => b.Id);
        Assert.All(all.Values, b => Assert.Equal(Enum.GetValues<BatchItemStatus>().Length, b.Counts.Count));
        Assert.Equal([5, 4, 3, 2, 1], all.Values.Select(b => b.Counts.Values.Sum()));
        Assert.Equal((1, 0), (all["b0"].Counts[BatchItemStatus.Completed], all["b0"].Counts[BatchItemStatus.Pending]));
        Assert.Equal((2, 0), (all["b1"].Counts[BatchItemStatus.Cancelled], all["b1"].Counts[BatchItemStatus.Pending]));
        Assert.Equal((1, 2), (all["b2"].Counts[BatchItemStatus.Dialing], all["b2"].Counts[BatchItemStatus.Pending]));
        Assert.Equal(5, all["b4"].Counts[BatchItemStatus.Pending]);
        Assert.Equal([false, false, false, true, false], all.Values.Select(b => b.CancelledAt is not null));
        Assert.Equal(time.GetUtcNow().AddSeconds(-1), all["b4"].CreatedAt);
        Assert.Equal(all["b3"].CreatedAt, all["b2"].CreatedAt);
        await Assert.ThrowsAsync<InvalidCursorException>(() => store.Batches.ListBatchesAsync(2, "bm9jb2xvbg", Ct));
    }

    [Theory]
    [InlineData("not a cursor!")]
    [InlineData("MTIzNDU")]
    [InlineData("YWJjOmNhbGwtMDE")]
    [InlineData("MTIzOg")]
    public async Task ListCalls_BadCursor_ThrowsInvalidCursorException(string cursor)
    {
        var store = await OpenAsync();
        await Assert.ThrowsAsync<InvalidCursorException>(() => store.Calls.ListCallsAsync(new CallQuery(Cursor: cursor), Ct));
    }

    [Fact]
    public async Task TakeOver_LapsedOrReleasedLeases_MovesTheirOpenCallsAndDialingItemsOnce()
    {
        var store = await OpenAsync();
        var t0 = DateTimeOffset.UtcNow;
        await store.Leases.StartLeaseAsync("a/1", "a", t0, Ct);
        await store.Leases.StartLeaseAsync("b/1", "b", t0, Ct);
        await store.Leases.StartLeaseAsync("c/1", "c", t0, Ct);
        await store.Calls.InsertCallAsync(new NewCall("a-open", CallDirection.Outbound, "+15550001111", "a/1", StreamToken: "tok", StreamFormat: "PCMU/8000"), Ct);
        await store.Calls.InsertCallAsync(new NewCall("a-ended", CallDirection.Outbound, "+15550001112", "a/1"), Ct);
        await store.Calls.InsertCallAsync(new NewCall("b-open", CallDirection.Outbound, "+15550001113", "b/1"), Ct);
        await store.Calls.SetEndedAsync("a-ended", CallStatus.Completed, "remote_hangup", null, Ct);
        await store.Batches.CreateBatchAsync(new NewBatch("b1", [new NewBatchItem("+15550000001"), new NewBatchItem("+15550000002")]), Ct);
        Assert.Single(await store.Batches.ClaimDueItemsAsync("a/1", 1, t0.AddSeconds(1), Ct));
        Assert.Single(await store.Batches.ClaimDueItemsAsync("b/1", 1, t0.AddSeconds(1), Ct));

        var none = await store.Leases.TakeOverAsync("c/1", t0.AddSeconds(-15), Ct);
        Assert.Equal((0, 0), (none.Calls.Count, none.Items.Count));

        await store.Leases.RenewLeaseAsync("b/1", "b", t0.AddSeconds(20), Ct);
        await store.Leases.RenewLeaseAsync("c/1", "c", t0.AddSeconds(20), Ct);
        var taken = await store.Leases.TakeOverAsync("c/1", t0.AddSeconds(5), Ct);
        var call = Assert.Single(taken.Calls);
        Assert.Equal(("a-open", "c/1", "tok", "PCMU/8000"), (call.Id, call.InstanceId, call.StreamToken, call.StreamFormat));
        Assert.Equal(("b1:0", "c/1"), (Assert.Single(taken.Items).Id, taken.Items[0].ClaimedBy));
        Assert.Equal(["a-open"], await store.Leases.HeldCallIdsAsync("c/1", Ct));
        Assert.Empty(await store.Leases.HeldCallIdsAsync("a/1", Ct));

        var again = await store.Leases.TakeOverAsync("d/1", t0.AddSeconds(5), Ct);
        Assert.Equal((0, 0), (again.Calls.Count, again.Items.Count));

        await store.Leases.ReleaseLeaseAsync("b/1", Ct);
        var released = await store.Leases.TakeOverAsync("c/1", t0.AddSeconds(5), Ct);
        Assert.Equal(["b-open"], released.Calls.Select(c => c.Id));
        Assert.Equal(["b1:1"], released.Items.Select(i => i.Id));
    }

    [Fact]
    public async Task StartLease_SameInstanceRestarted_ItsEarlierRunsRowsAreTakenAtOnce()
    {
        var store = await OpenAsync();
        var now = DateTimeOffset.UtcNow;
        await store.Leases.StartLeaseAsync("solo/old", "solo", now, Ct);
        await store.Calls.InsertCallAsync(new NewCall("c1", CallDirection.Inbound, "+15550001111", "solo/old"), Ct);
        Assert.Empty((await store.Leases.TakeOverAsync("solo/new", now.AddSeconds(-15), Ct)).Calls);

        var restarted = await OpenAsync();
        await restarted.Leases.StartLeaseAsync("solo/new", "solo", now, Ct);

        Assert.Equal(["c1"], (await restarted.Leases.TakeOverAsync("solo/new", now.AddSeconds(-15), Ct)).Calls.Select(c => c.Id));
        Assert.Equal(["c1"], await restarted.Leases.HeldCallIdsAsync("solo/new", Ct));
    }

    [Fact]
    public async Task Batch_ClaimedInOrder_EachItemOnceWithProgress()
    {
        var store = await OpenAsync();
        await store.Batches.CreateBatchAsync(new NewBatch("b1", [.. Enumerable.Range(0, 5).Select(i => new NewBatchItem($"+1555000000{i}", $"N{i}", "ctx", "hi"))]), Ct);
        var now = DateTimeOffset.UtcNow.AddSeconds(1);

        var first = await store.Batches.ClaimDueItemsAsync("i1", 3, now, Ct);
        var second = await store.Batches.ClaimDueItemsAsync("i2", 3, now, Ct);
        Assert.Empty(await store.Batches.ClaimDueItemsAsync("i1", 3, now, Ct));

        Assert.Equal([0, 1, 2], first.Select(i => i.Index));
        Assert.Equal([3, 4], second.Select(i => i.Index));
        var item = first[0];
        Assert.Equal(("b1:0", "b1", "+15550000000", "N0", "ctx", "hi", BatchItemStatus.Dialing, 1, "i1"),
            (item.Id, item.BatchId, item.Phone, item.Name, item.Context, item.Greeting, item.Status, item.Attempts, item.ClaimedBy));
        Assert.Equal(now.ToUnixTimeMilliseconds(), item.ClaimedAt?.ToUnixTimeMilliseconds());

        await store.Calls.InsertCallAsync(new NewCall("call-b1-0", CallDirection.Outbound, item.Phone, "i1", BatchId: "b1", BatchItemId: item.Id), Ct);
        Assert.True(await store.Batches.RecordItemOutcomeAsync(item.Id, BatchItemStatus.Completed, null, Ct));
        Assert.False(await store.Batches.RecordItemOutcomeAsync(item.Id, BatchItemStatus.Failed, null, Ct));
        Assert.True(await store.Batches.RecordItemOutcomeAsync("b1:1", BatchItemStatus.Failed, null, Ct));

        var progress = await store.Batches.GetBatchProgressAsync("b1", Ct);
        Assert.NotNull(progress);
        Assert.Equal((1, 1, 3, 0), (progress.Counts[BatchItemStatus.Completed], progress.Counts[BatchItemStatus.Failed],
            progress.Counts[BatchItemStatus.Dialing], progress.Counts[BatchItemStatus.Pending]));
        Assert.Equal([BatchItemStatus.Completed, BatchItemStatus.Failed, BatchItemStatus.Dialing, BatchItemStatus.Dialing, BatchItemStatus.Dialing],
            progress.Items.Select(i => i.Status));
        Assert.Equal("call-b1-0", progress.Items[0].LastCallId);
        Assert.Null(progress.Items[0].ClaimedBy);
        Assert.Null(progress.CancelledAt);
        Assert.Null(await store.Batches.GetBatchProgressAsync("missing", Ct));
    }

    [Fact]
    public async Task Claim_RetryScheduled_WaitsForNextAttemptAt()
    {
        var store = await OpenAsync();
        await store.Batches.CreateBatchAsync(new NewBatch("b1", [new NewBatchItem("+15550000001")]), Ct);
        var now = DateTimeOffset.UtcNow.AddSeconds(1);
        var item = Assert.Single(await store.Batches.ClaimDueItemsAsync("i1", 10, now, Ct));

        Assert.True(await store.Batches.RecordItemOutcomeAsync(item.Id, BatchItemStatus.Busy, now.AddSeconds(60), Ct));
        var waiting = (await store.Batches.GetBatchProgressAsync("b1", Ct))!.Items[0];
        Assert.Equal((BatchItemStatus.Pending, BatchItemStatus.Busy, 1), (waiting.Status, waiting.LastOutcome, waiting.Attempts));

        Assert.Empty(await store.Batches.ClaimDueItemsAsync("i1", 10, now.AddSeconds(59), Ct));
        var retry = Assert.Single(await store.Batches.ClaimDueItemsAsync("i1", 10, now.AddSeconds(60), Ct));
        Assert.Equal((item.Id, 2, BatchItemStatus.Dialing), (retry.Id, retry.Attempts, retry.Status));
    }

    [Fact]
    public async Task CancelBatch_PendingAndRetryingItems_AreNeverClaimed()
    {
        var store = await OpenAsync();
        await store.Batches.CreateBatchAsync(new NewBatch("b1", [.. Enumerable.Range(0, 4).Select(i => new NewBatchItem($"+1555000000{i}"))]), Ct);
        var now = DateTimeOffset.UtcNow.AddSeconds(1);
        var claimed = await store.Batches.ClaimDueItemsAsync("i1", 2, now, Ct);

        Assert.True(await store.Batches.CancelBatchAsync("b1", Ct));
        Assert.True(await store.Batches.CancelBatchAsync("b1", Ct));
        Assert.False(await store.Batches.CancelBatchAsync("missing", Ct));
        Assert.Empty(await store.Batches.ClaimDueItemsAsync("i1", 10, now.AddHours(1), Ct));

        Assert.True(await store.Batches.RecordItemOutcomeAsync(claimed[0].Id, BatchItemStatus.NoAnswer, now, Ct));
        Assert.True(await store.Batches.RecordItemOutcomeAsync(claimed[1].Id, BatchItemStatus.Completed, null, Ct));
        Assert.Empty(await store.Batches.ClaimDueItemsAsync("i1", 10, now.AddHours(1), Ct));

        var progress = await store.Batches.GetBatchProgressAsync("b1", Ct);
        Assert.NotNull(progress?.CancelledAt);
        Assert.Equal([BatchItemStatus.Cancelled, BatchItemStatus.Completed, BatchItemStatus.Cancelled, BatchItemStatus.Cancelled],
            progress.Items.Select(i => i.Status));
        Assert.Equal(BatchItemStatus.NoAnswer, progress.Items[0].LastOutcome);
        Assert.Equal((3, 1), (progress.Counts[BatchItemStatus.Cancelled], progress.Counts[BatchItemStatus.Completed]));
    }

    [Fact]
    public async Task Claim_TwoInstancesInParallel_ClaimDisjointItems()
    {
        var a = await OpenAsync();
        var b = await OpenAsync();
        for (var round = 0; round < 10; round++)
        {
            await a.Batches.CreateBatchAsync(new NewBatch($"b{round}", [.. Enumerable.Range(0, 40).Select(i => new NewBatchItem($"+1555{i:D7}"))]), Ct);

            var claims = await Task.WhenAll(
                Task.Run(() => ClaimAllAsync(a, "a"), Ct),
                Task.Run(() => ClaimAllAsync(b, "b"), Ct));

            var all = claims.SelectMany(c => c).ToList();
            Assert.Equal(40, all.Count);
            Assert.Equal(40, all.Distinct().Count());
        }

        static async Task<List<string>> ClaimAllAsync(TestStorage store, string instance)
        {
            var ids = new List<string>();
            while (await store.Batches.ClaimDueItemsAsync(instance, 3, DateTimeOffset.UtcNow.AddSeconds(1), Ct) is { Count: > 0 } items)
            {
                ids.AddRange(items.Select(i => i.Id));
            }

            return ids;
        }

        Assert.All((await a.Batches.GetBatchProgressAsync("b9", Ct))!.Items, i => Assert.Equal((BatchItemStatus.Dialing, 1), (i.Status, i.Attempts)));
    }

    [Fact]
    public async Task Migrate_ConcurrentlyAndAgain_AppliesEachVersionOnceAndKeepsData()
    {
        var a = await CreateTrackedStoreAsync();
        var b = await CreateTrackedStoreAsync();

        var applied = await Task.WhenAll(Task.Run(() => a.MigrateAsync(Ct), Ct), Task.Run(() => b.MigrateAsync(Ct), Ct));
        await a.Calls.InsertCallAsync(new NewCall("c1", CallDirection.Outbound, "+15550001111", "i1"), Ct);
        var again = await b.MigrateAsync(Ct);

        Assert.Equal([1, 2, 3, 4, 5], applied.SelectMany(v => v).Order());
        Assert.Empty(again);
        Assert.NotNull(await b.Calls.GetCallAsync("c1", Ct));
    }

    [Fact]
    public async Task CallEvents_EndQueuesOneDelivery_ClaimedByOneInstanceAtATime()
    {
        var a = await OpenAsync();
        var b = await OpenAsync();
        var outbox = new CallEventOutbox(new CallEventsOptions(new Uri("https://hooks.example.test/calls"), "0123456789abcdef"));
        var calls = new SqlCallStore(a.Dialect, a.Time, outbox);
        await calls.InsertCallAsync(new NewCall("c1", CallDirection.Outbound, "+15550001111", "i1"), Ct);
        await calls.InsertCallAsync(new NewCall("c2", CallDirection.Outbound, "+15550002222", "i1"), Ct);

        Assert.True(await calls.SetEndedAsync("c1", CallStatus.Completed, "caller_hung_up", "normal_clearing", Ct));
        Assert.False(await calls.SetEndedAsync("c1", CallStatus.Failed, "error", null, Ct));
        Assert.True(await a.Calls.SetEndedAsync("c2", CallStatus.Completed, "caller_hung_up", null, Ct));
        await outbox.WaitAsync(TimeSpan.FromMinutes(1), TimeProvider.System, Ct).WaitAsync(TimeSpan.FromSeconds(5), Ct);

        var now = DateTimeOffset.UtcNow.AddSeconds(1);
        var claims = await Task.WhenAll(
            Task.Run(() => a.Deliveries.ClaimDueAsync(10, now, now.AddMinutes(1), Ct), Ct),
            Task.Run(() => b.Deliveries.ClaimDueAsync(10, now, now.AddMinutes(1), Ct), Ct));
        var claimed = Assert.Single(claims.SelectMany(c => c));
        Assert.Equal(("c1", 0), (claimed.CallId, claimed.Attempts));
        Assert.Empty(await b.Deliveries.ClaimDueAsync(10, now.AddSeconds(59), now.AddMinutes(2), Ct));

        await a.Deliveries.RecordFailureAsync("c1", "HTTP 500 Internal Server Error", now.AddMinutes(5), Ct);
        Assert.Empty(await b.Deliveries.ClaimDueAsync(10, now.AddMinutes(4), now.AddMinutes(5), Ct));
        var retried = Assert.Single(await b.Deliveries.ClaimDueAsync(10, now.AddMinutes(5), now.AddMinutes(6), Ct));
        Assert.Equal((claimed.EventId, 1), (retried.EventId, retried.Attempts));

        await b.Deliveries.ReleaseAsync("c1", now.AddMinutes(5), Ct);
        Assert.Single(await a.Deliveries.ClaimDueAsync(10, now.AddMinutes(5), now.AddMinutes(6), Ct));
        await a.Deliveries.MarkDeliveredAsync("c1", now.AddMinutes(5), Ct);
        await a.Deliveries.ReleaseAsync("c1", now, Ct);
        Assert.Empty(await b.Deliveries.ClaimDueAsync(10, now.AddDays(2), now.AddDays(3), Ct));
        await using var connection = await a.Dialect.OpenAsync(Ct);
        var row = Assert.Single(await connection.ReadAsync(
            "SELECT attempts, delivered_at, last_error FROM call_event_deliveries",
            r => (r.GetInt32(0), r.OptionalTime(1), r.Text(2)),
            null,
            Ct));
        Assert.Equal((2, now.AddMinutes(5).ToUnixTimeMilliseconds(), "HTTP 500 Internal Server Error"), (row.Item1, row.Item2?.ToUnixTimeMilliseconds(), row.Item3));
    }

    /// <summary>A migrated store on this test's database.</summary>
    private protected async Task<TestStorage> OpenAsync(TimeProvider? time = null)
    {
        var store = await CreateTrackedStoreAsync(time);
        await store.MigrateAsync(Ct);
        return store;
    }

    private async Task<TestStorage> CreateTrackedStoreAsync(TimeProvider? time = null)
    {
        var store = await CreateStoreAsync(time);
        stores.Add(store);
        return store;
    }
}
