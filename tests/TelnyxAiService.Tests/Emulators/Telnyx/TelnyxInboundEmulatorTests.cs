using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Telephony;
using TelnyxAiService.Telephony.Telnyx;
using TelnyxAiService.Tests.Telephony;

namespace TelnyxAiService.Tests.Emulators.Telnyx;

/// <summary>Incoming calls on the Telnyx emulator, answered by the real Call Control client.</summary>
public sealed class TelnyxInboundEmulatorTests
{
    private const string Caller = "+18124040851";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<TelnyxHarness> StartAsync(TelnyxEmulatorOptions? options = null)
    {
        var h = await TelnyxHarness.StartAsync(options);
        h.Emulator.DefaultWebhookUrl = h.Receiver.WebhookUrl;
        return h;
    }

    private static Task<DeliveredWebhook> Delivered(TelnyxHarness h, string eventType) =>
        h.Emulator.WaitForWebhookAsync(w => w.EventType == eventType && w.StatusCode == 200, Timeout, Ct);

    private static string[] Keys(JsonNode? node) => [.. node!.AsObject().Select(p => p.Key).Order()];

    [Fact]
    public async Task PlaceInboundCall_Parked_InitiatedHasRecordedShapeAndNullClientState()
    {
        await using var h = await StartAsync();

        var call = h.Emulator.PlaceInboundCall(Caller, TelnyxHarness.OurNumber);
        var initiated = await Delivered(h, "call.initiated");

        var recorded = JsonNode.Parse(TelnyxFixtures.Bytes("webhook_call.initiated.recorded.json"))!;
        var sent = JsonNode.Parse(initiated.Body)!;
        Assert.Equal(Keys(recorded), Keys(sent));
        Assert.Equal(Keys(recorded["data"]), Keys(sent["data"]));
        Assert.Equal(Keys(recorded["data"]!["payload"]), Keys(sent["data"]!["payload"]));
        var payload = sent["data"]!["payload"]!;
        Assert.Equal(("incoming", "parked", Caller, TelnyxHarness.OurNumber), ((string?)payload["direction"], (string?)payload["state"], (string?)payload["from"], (string?)payload["to"]));
        Assert.Equal(JsonValueKind.Null, initiated.Payload.GetProperty("client_state").ValueKind);
        Assert.Equal((call.CallControlId, "2811212257810187875"), ((string?)payload["call_control_id"], (string?)payload["connection_id"]));
        Assert.Equal(h.Receiver.WebhookUrl, initiated.Url);
        Assert.Equal(("incoming", "parked", null), (call.Direction, call.State, call.AnsweredAt));
        Assert.Equal(["call.initiated"], h.Emulator.Webhooks.Select(w => w.EventType));
    }

    [Fact]
    public async Task Answer_WithStream_RecordsStreamAndClientStateThenAnsweredAndMediaCallee()
    {
        await using var h = await StartAsync();
        var media = new TaskCompletionSource<EmulatedCall>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Emulator.MediaCallee = (call, _) =>
        {
            media.TrySetResult(call);
            return Task.CompletedTask;
        };
        var call = h.Emulator.PlaceInboundCall(Caller, TelnyxHarness.OurNumber);
        await Delivered(h, "call.initiated");
        var stream = new MediaStreamRequest(new Uri("ws://127.0.0.1:9/stream/media?token=t0k"), "t0k", "L16", 16000);

        await h.CallControl.AnswerAsync(call.CallControlId, "call-42", stream, Ct);
        await h.CallControl.AnswerAsync(call.CallControlId, "call-42", stream, Ct);
        var answered = await Delivered(h, "call.answered");
        Assert.Same(call, await media.Task.WaitAsync(Timeout, Ct));

        var answers = h.Emulator.Commands.Where(c => c.Action == "answer").ToList();
        Assert.Equal([false, true], answers.Select(a => a.Duplicate));
        Assert.Equal(
            ["client_state", "command_id", "stream_bidirectional_codec", "stream_bidirectional_mode", "stream_codec", "stream_track", "stream_url"],
            answers[0].Body.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("call-42", answers[0].CommandId);
        Assert.Equal(
            ("ws://127.0.0.1:9/stream/media?token=t0k", "inbound_track", "L16", "rtp", "L16", 16000, null),
            (call.StreamUrl!.OriginalString, call.StreamTrack, call.StreamCodec, call.StreamBidirectionalMode, call.StreamBidirectionalCodec, call.StreamSampleRate, call.StreamAuthToken));
        Assert.Equal(Convert.ToBase64String("call-42"u8), call.ClientState);
        Assert.Equal(Convert.ToBase64String("call-42"u8), answered.Payload.GetProperty("client_state").GetString());
        Assert.Equal("answered", call.State);
        Assert.Single(h.Emulator.Webhooks, w => w.EventType == "call.answered");
        Assert.Empty(h.Emulator.BackgroundFailures);
    }

    [Fact]
    public async Task Answer_CallControlMode_CallerSaysLinesThenHangsUpAsCaller()
    {
        await using var h = await StartAsync();
        var call = h.Emulator.PlaceInboundCall(Caller, TelnyxHarness.OurNumber, new CalleeScript { Lines = ["Are you open today"] });
        await Delivered(h, "call.initiated");

        await h.CallControl.AnswerAsync(call.CallControlId, "call-7", null, Ct);
        await Delivered(h, "call.answered");
        await h.CallControl.StartTranscriptionAsync(call.CallControlId, "en", Ct);
        await h.CallControl.SpeakAsync(call.CallControlId, "Thanks for calling.", "en", Ct);
        await h.Emulator.WaitForWebhookAsync(w => w.EventType == "call.transcription" && w.Payload.GetProperty("transcription_data").GetProperty("is_final").GetBoolean(), Timeout, Ct);
        await h.CallControl.SpeakAsync(call.CallControlId, "Yes, until six.", "en", Ct);
        await Delivered(h, "call.hangup");

        var events = h.Receiver.Received.Select(r => r.Event).ToList();
        Assert.Equal(
            ["call.initiated", "call.answered", "call.speak.started", "call.speak.ended", "call.transcription", "call.transcription",
             "call.speak.started", "call.speak.ended", "call.hangup"],
            events.Select(e => e.EventType));
        Assert.Equal("Are you open today", events[5].Transcript);
        Assert.All(events.Skip(1), e => Assert.Equal("call-7", e.ClientState));
        Assert.Null(events[0].ClientState);
        Assert.Equal(("normal_clearing", "caller"), (events[^1].HangupCause, events[^1].HangupSource));
        Assert.Null(call.StreamUrl);
    }

    [Fact]
    public async Task Hangup_ByApp_HangupSourceIsCallee()
    {
        await using var h = await StartAsync();
        var call = h.Emulator.PlaceInboundCall(Caller, TelnyxHarness.OurNumber);
        await Delivered(h, "call.initiated");
        await h.CallControl.AnswerAsync(call.CallControlId, "call-8", null, Ct);
        await Delivered(h, "call.answered");

        await h.CallControl.HangupAsync(call.CallControlId, Ct);

        var hangup = (await Delivered(h, "call.hangup")).Payload;
        Assert.Equal(("normal_clearing", "callee"), (hangup.GetProperty("hangup_cause").GetString(), hangup.GetProperty("hangup_source").GetString()));
    }

    [Fact]
    public async Task Answer_CallerHungUpFirst_Throws90018AndNoAnswered()
    {
        await using var h = await StartAsync();
        var call = h.Emulator.PlaceInboundCall(Caller, TelnyxHarness.OurNumber);
        await Delivered(h, "call.initiated");
        await call.CalleeHangUpAsync("originator_cancel", Ct);

        var e = await Assert.ThrowsAsync<TelnyxApiException>(() => h.CallControl.AnswerAsync(call.CallControlId, "call-9", null, Ct));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.StatusCode);
        Assert.Equal("90018", Assert.Single(e.Errors).Code);
        var hangup = (await Delivered(h, "call.hangup")).Payload;
        Assert.Equal(("originator_cancel", "caller"), (hangup.GetProperty("hangup_cause").GetString(), hangup.GetProperty("hangup_source").GetString()));
        Assert.DoesNotContain(h.Emulator.Webhooks, w => w.EventType == "call.answered");
    }

    [Fact]
    public async Task Answer_InvalidStreamOrClientState_Answers422WithPointer()
    {
        await using var h = await StartAsync();
        var call = h.Emulator.PlaceInboundCall(Caller, TelnyxHarness.OurNumber);
        using var rest = new HttpClient { BaseAddress = new Uri(h.Emulator.ApiBaseUrl + "/") };
        rest.DefaultRequestHeaders.Authorization = new("Bearer", h.Emulator.ApiKey);
        var path = $"calls/{Uri.EscapeDataString(call.CallControlId)}/actions/answer";

        using var badUrl = await rest.PostAsync(path, new StringContent("""{"stream_url":"https://example.test/media"}""", System.Text.Encoding.UTF8, "application/json"), Ct);
        using var badState = await rest.PostAsync(path, new StringContent("""{"client_state":"not base64!"}""", System.Text.Encoding.UTF8, "application/json"), Ct);

        foreach (var (response, pointer) in new[] { (badUrl, "/stream_url"), (badState, "/client_state") })
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["errors"]![0]!;
            Assert.Equal(("10015", pointer), ((string?)error["code"], (string?)error["source"]!["pointer"]));
        }

        Assert.Equal("parked", call.State);
    }

    [Fact]
    public async Task PlaceInboundCall_NoWebhookUrl_Throws()
    {
        await using var emulator = await TelnyxEmulator.StartAsync(new TelnyxEmulatorOptions(), Ct);

        Assert.Throws<InvalidOperationException>(() => emulator.PlaceInboundCall(Caller, TelnyxHarness.OurNumber));
    }
}
