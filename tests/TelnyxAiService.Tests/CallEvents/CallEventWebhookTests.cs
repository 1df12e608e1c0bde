using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TelnyxAiService.CallEvents;
using TelnyxAiService.Storage;
using TelnyxAiService.Tests.Conversation;
using TelnyxAiService.Tests.Storage;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.CallEvents;

/// <summary>
/// The end-of-call webhook from a real call through the emulators to a receiver that checks the signature: retried
/// after a failure with the same event id, and delivered by the next run when the receiver was down.
/// </summary>
public sealed class CallEventWebhookTests
{
    private const string Reply = "Monday at ten works. Shall I book it?";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CallEnds_ReceiverFailsFirst_SameEventRetriedAndAcceptedWithTranscriptAndLatency()
    {
        await using var receiver = await WebhookReceiver.StartAsync(n => n == 1 ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK, Ct);
        var database = Database();
        await using var harness = await ServiceHarness.StartAsync(Options(receiver.Url, database), Ct);

        var callId = await CallAsync(harness);
        await Wait.UntilAsync(() => receiver.Received.Count >= 2, "the event to be retried", TimeSpan.FromSeconds(30));
        await Wait.UntilAsync(async () => (await RowAsync(database, callId)).DeliveredAt is not null, "the delivery to be marked delivered");

        var (first, second) = (receiver.Received[0], receiver.Received[1]);
        Assert.Equal((true, true), (first.SignatureValid, second.SignatureValid));
        Assert.Equal((500, 200), (first.Answered, second.Answered));
        Assert.Equal(first.EventId, second.EventId);
        Assert.Equal(first.EventId, second.Body.GetProperty("id").GetString());
        Assert.Equal("call.ended", second.Body.GetProperty("type").GetString());
        var call = second.Body.GetProperty("call");
        Assert.Equal((callId, "outbound", "+34600111222", "Ana", "completed", "remote_hangup"), (
            call.GetProperty("call_id").GetString(), call.GetProperty("direction").GetString(), call.GetProperty("phone").GetString(),
            call.GetProperty("name").GetString(), call.GetProperty("outcome").GetString(), call.GetProperty("end_reason").GetString()));
        Assert.True(call.GetProperty("duration_seconds").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, call.GetProperty("recording").ValueKind);
        var transcript = call.GetProperty("transcript").EnumerateArray().ToList();
        Assert.Equal(
            [("agent", MediaStreamCallTests.Greeting), ("caller", MediaStreamCallTests.BookingRequest), ("agent", Reply)],
            transcript.Select(t => (t.GetProperty("speaker").GetString(), t.GetProperty("text").GetString())));
        Assert.Equal([0, 1, 2], transcript.Select(t => t.GetProperty("seq").GetInt32()));
        Assert.True(transcript[2].GetProperty("latency").GetProperty("voice_to_voice").GetInt32() > 0);
        Assert.True(transcript[2].GetProperty("latency").GetProperty("decision_to_first_token").GetInt32() >= 0);

        // Woken by the end, not by the poll: the first attempt is signed within seconds of the stored end.
        var ended = call.GetProperty("ended_at").GetDateTimeOffset().ToUnixTimeSeconds();
        Assert.InRange(first.Timestamp - ended, 0, CallEventSender.PollInterval.TotalSeconds / 2);
        var row = await RowAsync(database, callId);
        Assert.Equal((first.EventId, 2, null, "HTTP 500 Internal Server Error"), (row.EventId, row.Attempts, row.NextAttemptAt, row.LastError));
    }

    [Fact]
    public async Task CallEnds_ReceiverDown_NextRunOnTheSameDatabaseDeliversIt()
    {
        var port = ServiceProcess.FreePort();
        var url = new Uri($"http://127.0.0.1:{port}/hooks/calls");
        var database = Database();
        string callId;
        await using (var first = await ServiceHarness.StartAsync(Options(url, database), Ct))
        {
            callId = await CallAsync(first);
            await Wait.UntilAsync(async () => (await RowAsync(database, callId)).Attempts >= 1, "a failed attempt to be stored");
        }

        var stored = await RowAsync(database, callId);
        Assert.Null(stored.DeliveredAt);
        Assert.NotNull(stored.NextAttemptAt);
        Assert.NotNull(stored.LastError);

        await using var receiver = await WebhookReceiver.StartAsync(_ => StatusCodes.Status200OK, Ct, port);
        await using var second = await ServiceHarness.StartAsync(Options(url, database), Ct);
        await Wait.UntilAsync(async () => (await RowAsync(database, callId)).DeliveredAt is not null, "the next run to deliver it");

        var received = Assert.Single(receiver.Received);
        Assert.True(received.SignatureValid);
        Assert.Equal(stored.EventId, received.EventId);
        Assert.Equal(callId, received.Body.GetProperty("call").GetProperty("call_id").GetString());
        Assert.Equal(3, received.Body.GetProperty("call").GetProperty("transcript").GetArrayLength());
    }

    private static string Database() => $"sqlite:{Path.Combine(Path.GetTempPath(), $"telnyx-ai-events-{Guid.NewGuid():N}.db")}";

    private static HarnessOptions Options(Uri receiver, string database)
    {
        var options = MediaStreamCallTests.OneTurnCall(Reply);
        options.Settings["DATABASE_URL"] = database;
        options.Settings["CALL_EVENTS_URL"] = receiver.ToString();
        options.Settings["CALL_EVENTS_SECRET"] = WebhookReceiver.Secret;
        return options;
    }

    /// <summary>Places a call, waits for the caller's script to end, and returns our call id.</summary>
    private static async Task<string> CallAsync(ServiceHarness harness)
    {
        var response = await harness.Client.PostAsJsonAsync(
            "/api/call/initiate", new { telefono = "+34600111222", nombre = "Ana", saludo = MediaStreamCallTests.Greeting }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        await harness.Callee!.WaitForRecordingAsync(created.GetProperty("call_control_id").GetString()!, TimeSpan.FromSeconds(60), Ct);
        return created.GetProperty("call_id").GetString()!;
    }

    private static async Task<DeliveryRow> RowAsync(string database, string callId)
    {
        await using var storage = new TestStorage(StorageOptions.Sqlite(database["sqlite:".Length..], "test"));
        await using var connection = await storage.Dialect.OpenAsync(Ct);
        var rows = await connection.ReadAsync(
            "SELECT event_id, attempts, next_attempt_at, delivered_at, last_error FROM call_event_deliveries WHERE call_id = @callId",
            r => new DeliveryRow(r.GetString(0), r.GetInt32(1), r.OptionalTime(2), r.OptionalTime(3), r.Text(4)),
            null,
            Ct,
            ("callId", callId));
        return rows.SingleOrDefault() ?? new DeliveryRow(null, 0, null, null, null);
    }

    private sealed record DeliveryRow(string? EventId, int Attempts, DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt, string? LastError);
}
