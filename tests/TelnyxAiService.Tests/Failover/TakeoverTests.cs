using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.Batches;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Failover;

/// <summary>
/// Two service processes on one PostgreSQL, on media streams: instance A dies (SIGKILL) holding a live call and part of
/// a batch; once A's lease lapses instance B takes both over: the call goes on on a new stream to B with its history,
/// and the batch finishes with every number dialled exactly once. A's public address fails over to B (a TCP proxy
/// stands for the load balancer), so Telnyx's webhooks for A's calls reach B.
/// </summary>
public sealed class TakeoverTests : IDisposable
{
    private const string LivePhone = "+34609999999";
    private const string Greeting = "Hello Ana, this is the clinic.";
    private const string Heard = "hello";
    private const string Reply = "Sure.";

    private readonly string directory = Directory.CreateTempSubdirectory("telnyx-ai-takeover-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task InstanceKilled_OtherInstanceTakesOverLiveCallAndBatch_WithinLeaseAndDiallingEachNumberOnce()
    {
        var numbers = Enumerable.Range(0, 16).Select(Vendors.Number).ToList();
        await using var schema = await PostgresSchema.CreateAsync(Ct);
        await using var vendors = await MediaVendors.StartAsync(
            (call, stream) => (call.To, stream) switch
            {
                (LivePhone, 1) => new CallerScript().WaitForAgentToFinish().Say(Heard).WaitForAgentToFinish(),
                _ => new CallerScript().WaitForAgentToFinish().Say(Heard).WaitForAgentToFinish().HangUp(),
            },
            null,
            _ => Reply);
        var (portA, portB) = (ServiceProcess.FreePort(), ServiceProcess.FreePort());
        await using var publicA = new FailoverProxy(portA, portB);
        var settingsA = vendors.SettingsFor(portA, schema.Url, "instance-a", publicA.Url);
        var settingsB = vendors.SettingsFor(portB, schema.Url, "instance-b");
        foreach (var settings in (Dictionary<string, string>[])[settingsA, settingsB])
        {
            settings["MAX_CONCURRENT_CALLS"] = "3";
            settings["CALLS_PER_SECOND"] = "4";
        }

        var starting = new[] { ServiceProcess.StartAsync(portA, settingsA, directory, Ct), ServiceProcess.StartAsync(portB, settingsB, directory, Ct) };
        await using var a = await starting[0];
        await using var b = await starting[1];

        var (callId, callControlId) = await MediaVendors.InitiateAsync(a.Client, LivePhone, Greeting);
        var posted = await a.Client.PostAsJsonAsync("/api/call/batch", new { calls = numbers.Select(n => new { telefono = n, nombre = "Client", saludo = "Hi." }) }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var batchId = (await posted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("batch_id").GetString()!;
        await MediaVendors.WaitForStoredAsync(a.Client, callId, 3, ended: false, "the live call's greeting, line and reply to be stored");
        await TestHost.Wait.UntilAsync(
            () => vendors.Telnyx.Calls.Any(c => c.IsAlive && c.AnsweredAt is not null && c.To != LivePhone && c.WebhookUrl.Port == publicA.Url.Port),
            "instance A to hold a live batch call");
        await a.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        var heldByA = vendors.Telnyx.Calls.Where(c => c.IsAlive && c.WebhookUrl.Port == publicA.Url.Port).Select(c => c.CallControlId).ToList();

        var resumed = await vendors.Callee.WaitForRecordingAsync(callControlId, 2, TimeSpan.FromSeconds(20), Ct);
        var heardAgainAt = vendors.FirstAgentAudioAt(callControlId, 2, resumed);
        var takenAt = vendors.Telnyx.Commands.Single(c => c.Action == "streaming_start" && c.CallControlId == callControlId).Timestamp;
        var progress = await Batch.WaitFinishedAsync(b.Client, batchId, TimeSpan.FromSeconds(30), () => b.Output);
        var stored = await MediaVendors.WaitForStoredAsync(b.Client, callId, 6, ended: true, "the resumed call to end and be stored");

        Assert.InRange(takenAt - killedAt, TimeSpan.Zero, TimeSpan.FromSeconds(3 + 2));
        Assert.Equal(CallEndReason.CallerHungUp, resumed.EndReason);
        Assert.True(resumed.Arrivals[0].At < Assert.Single(resumed.CallerLines).Start, "the agent spoke first on the resumed stream");
        Assert.Equal("completed", stored.GetProperty("call").GetProperty("status").GetString());
        Assert.Equal("instance-b", stored.GetProperty("call").GetProperty("instance_id").GetString());
        Assert.Equal(
            [("agent", Greeting), ("caller", Heard), ("agent", Reply), ("agent", MediaVendors.ResumedLine), ("caller", Heard), ("agent", Reply)],
            MediaVendors.Turns(stored));

        var placed = vendors.PlacedDials();
        Assert.All(placed.GroupBy(d => d.CommandId), g => Assert.Single(g));
        Assert.All(vendors.Telnyx.Calls.Where(c => c.AnsweredAt is not null).GroupBy(c => c.To), g => Assert.Single(g));
        var items = Batch.Items(progress).ToList();
        Assert.Equal(numbers.Count, items.Count);
        foreach (var item in items)
        {
            var phone = item.GetProperty("phone").GetString()!;
            Assert.Equal(("completed", 1, 1), (item.GetProperty("status").GetString(), item.GetProperty("attempts").GetInt32(), placed.Count(d => d.Body.GetProperty("to").GetString() == phone)));
        }

        Assert.All(heldByA, id => Assert.Equal(2, vendors.Telnyx.FindCall(id)!.StreamsStarted));
        Assert.DoesNotContain(vendors.Telnyx.Commands, c => c.Action == "hangup");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"Takeover on PostgreSQL (LEASE_SECONDS=3): kill -> streaming_start from B {(takenAt - killedAt).TotalMilliseconds:0} ms; " +
            $"kill -> caller hears the agent again on B {(heardAgainAt - killedAt).TotalMilliseconds:0} ms; {heldByA.Count} live calls taken over");
    }
}
