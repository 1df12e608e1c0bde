using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Batches;

/// <summary>Two service processes on one PostgreSQL: one batch shared without double dials, webhooks relayed.</summary>
public sealed class MultiInstanceTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("telnyx-ai-instances-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task TwoInstances_ShareBatchAndRelayHangup_NoNumberDialledTwiceAndCallEndsWhereItLives()
    {
        var numbers = Enumerable.Range(0, 200).Select(Vendors.Number).ToList();
        var silent = Vendors.Number(9_999_999);
        var seed = RandomNumberGenerator.GetBytes(32);
        await using var schema = await PostgresSchema.CreateAsync(Ct);
        await using var vendors = await Vendors.StartAsync(new Dictionary<string, CalleeScript> { [silent] = Vendors.Silent }, Ct, seed);
        var (portA, portB) = (ServiceProcess.FreePort(), ServiceProcess.FreePort());
        var settingsA = vendors.SettingsFor(portA, schema.Url, "instance-a");
        var settingsB = vendors.SettingsFor(portB, schema.Url, "instance-b");
        foreach (var settings in (Dictionary<string, string>[])[settingsA, settingsB])
        {
            settings["MAX_CONCURRENT_CALLS"] = "5";
            settings["CALLS_PER_SECOND"] = "15";
        }

        await using var a = await ServiceProcess.StartAsync(portA, settingsA, directory, Ct);
        await using var b = await ServiceProcess.StartAsync(portB, settingsB, directory, Ct);

        var batchId = await Batch.PostAsync(a.Client, numbers);
        var progress = await Batch.WaitFinishedAsync(b.Client, batchId, TimeSpan.FromSeconds(180), () => a.Output + "\n" + b.Output);

        Assert.Equal(200, Batch.Count(progress, "completed"));
        var placed = vendors.PlacedDials();
        Assert.Equal(200, placed.Count);
        Assert.Equal(200, placed.Select(d => d.Body.GetProperty("to").GetString()).Distinct().Count());
        var calls = await Batch.ListCallsAsync(a.Client, $"batch={batchId}&limit=64");
        Assert.Equal(200, calls.Count);
        var byInstance = calls.GroupBy(c => c.GetProperty("instance_id").GetString()).ToDictionary(g => g.Key!, g => g.Count());
        Assert.True(byInstance.GetValueOrDefault("instance-a") > 0 && byInstance.GetValueOrDefault("instance-b") > 0, $"both instances dialled: {string.Join(", ", byInstance)}");

        var initiated = await b.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = silent, nombre = "Sam" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, initiated.StatusCode);
        var created = await initiated.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var callId = created.GetProperty("call_id").GetString()!;
        var callControlId = created.GetProperty("call_control_id").GetString()!;
        await vendors.Telnyx.WaitForCommandAsync(c => c.Action == "transcription_start" && c.CallControlId == callControlId, TimeSpan.FromSeconds(20), Ct);

        var hangup = await SendHangupAsync(a.Client, seed, vendors.Telnyx.FindCall(callControlId)!);
        Assert.Equal("relayed", hangup.GetProperty("status").GetString());
        await TestHost.Wait.UntilAsync(
            async () => (await Batch.CallAsync(a.Client, callId)).GetProperty("call").TryGetProperty("ended_at", out _),
            "instance B to end the call from the hangup sent to instance A");
        var call = (await Batch.CallAsync(a.Client, callId)).GetProperty("call");
        Assert.Equal(("instance-b", "completed", "remote_hangup", "normal_clearing"), (
            call.GetProperty("instance_id").GetString(), call.GetProperty("status").GetString(),
            call.GetProperty("end_reason").GetString(), call.GetProperty("hangup_cause").GetString()));
        Assert.True(vendors.Telnyx.FindCall(callControlId)!.IsAlive, "the call was ended by the relayed webhook, not by the emulator");
        var stats = await b.Client.GetFromJsonAsync<JsonElement>("/api/sessions/stats", Ct);
        Assert.Equal(0, stats.GetProperty("active_sessions").GetInt32());

        var again = await SendHangupAsync(b.Client, seed, vendors.Telnyx.FindCall(callControlId)!, hangup.GetProperty("event_id").GetString());
        Assert.Equal("duplicate", again.GetProperty("status").GetString());
    }

    [Fact]
    public async Task TwoInstances_HangupLargerThanNotifyPayloadSentToOther_EndsCallWhereItLives()
    {
        var silent = Vendors.Number(9_999_998);
        var seed = RandomNumberGenerator.GetBytes(32);
        await using var schema = await PostgresSchema.CreateAsync(Ct);
        await using var vendors = await Vendors.StartAsync(new Dictionary<string, CalleeScript> { [silent] = Vendors.Silent }, Ct, seed);
        var (portA, portB) = (ServiceProcess.FreePort(), ServiceProcess.FreePort());
        await using var a = await ServiceProcess.StartAsync(portA, vendors.SettingsFor(portA, schema.Url, "instance-a"), directory, Ct);
        await using var b = await ServiceProcess.StartAsync(portB, vendors.SettingsFor(portB, schema.Url, "instance-b"), directory, Ct);

        var initiated = await b.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = silent, nombre = "Sam" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, initiated.StatusCode);
        var created = await initiated.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var callId = created.GetProperty("call_id").GetString()!;
        var callControlId = created.GetProperty("call_control_id").GetString()!;
        await vendors.Telnyx.WaitForCommandAsync(c => c.Action == "transcription_start" && c.CallControlId == callControlId, TimeSpan.FromSeconds(20), Ct);

        var hangup = await SendHangupAsync(a.Client, seed, vendors.Telnyx.FindCall(callControlId)!, padding: new string('x', 20_000));
        Assert.Equal("relayed", hangup.GetProperty("status").GetString());
        await TestHost.Wait.UntilAsync(
            async () => (await Batch.CallAsync(a.Client, callId)).GetProperty("call").TryGetProperty("ended_at", out _),
            "instance B to end the call from the large hangup sent to instance A");
        var call = (await Batch.CallAsync(a.Client, callId)).GetProperty("call");
        Assert.Equal(("instance-b", "remote_hangup", "normal_clearing"), (
            call.GetProperty("instance_id").GetString(), call.GetProperty("end_reason").GetString(), call.GetProperty("hangup_cause").GetString()));
        Assert.True(vendors.Telnyx.FindCall(callControlId)!.IsAlive, "the call was ended by the relayed webhook, not by the emulator");
    }

    /// <summary>
    /// Posts a signed call.hangup for <paramref name="call"/>, as Telnyx would, to one instance; with
    /// <paramref name="padding"/> in a field we do not read.
    /// </summary>
    private static async Task<JsonElement> SendHangupAsync(HttpClient client, byte[] seed, EmulatedCall call, string? eventId = null, string? padding = null)
    {
        eventId ??= Guid.NewGuid().ToString();
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["event_type"] = "call.hangup",
                ["id"] = eventId,
                ["occurred_at"] = DateTimeOffset.UtcNow.ToString("O"),
                ["record_type"] = "event",
                ["payload"] = new JsonObject
                {
                    ["call_control_id"] = call.CallControlId,
                    ["call_leg_id"] = call.CallLegId,
                    ["call_session_id"] = call.CallSessionId,
                    ["client_state"] = call.ClientState,
                    ["hangup_cause"] = "normal_clearing",
                    ["hangup_source"] = "callee",
                    ["padding"] = padding,
                },
            },
            ["meta"] = new JsonObject { ["attempt"] = 1, ["delivered_to"] = "test" },
        }.ToJsonString());
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/telnyx") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("telnyx-signature-ed25519", new WebhookSigner(seed).Sign(timestamp, body));
        request.Headers.Add("telnyx-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return JsonSerializer.SerializeToElement(new Dictionary<string, string?> { ["status"] = answer.GetProperty("status").GetString(), ["event_id"] = eventId });
    }
}
