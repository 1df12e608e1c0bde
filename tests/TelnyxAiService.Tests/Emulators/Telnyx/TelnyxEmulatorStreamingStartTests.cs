using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Telephony;
using TelnyxAiService.Tests.Emulators.TelnyxMedia;
using TelnyxAiService.Tests.Telephony;

namespace TelnyxAiService.Tests.Emulators.Telnyx;

/// <summary>
/// A live call outliving its media stream: the service's WebSocket drops, the call stays up, and
/// <c>streaming_start</c> connects a new stream, as a new instance of the service does after a crash.
/// </summary>
public sealed class TelnyxEmulatorStreamingStartTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{}""", "/stream_url" },
        { """{"stream_url":"https://x.test/s"}""", "/stream_url" },
        { """{"stream_url":"wss://x.test/s","stream_track":"inbound"}""", "/stream_track" },
        { """{"stream_url":"wss://x.test/s","stream_codec":"ulaw"}""", "/stream_codec" },
        { """{"stream_url":"wss://x.test/s","stream_bidirectional_mode":"raw"}""", "/stream_bidirectional_mode" },
        { """{"stream_url":"wss://x.test/s","stream_bidirectional_codec":"pcmu"}""", "/stream_bidirectional_codec" },
        { """{"stream_url":"wss://x.test/s","stream_bidirectional_sampling_rate":11025}""", "/stream_bidirectional_sampling_rate" },
        { """{"stream_url":"wss://x.test/s","stream_bidirectional_sampling_rate":"16000"}""", "/stream_bidirectional_sampling_rate" },
        { """{"stream_url":"wss://x.test/s","stream_bidirectional_target_legs":"all"}""", "/stream_bidirectional_target_legs" },
        { $$"""{"stream_url":"wss://x.test/s","stream_auth_token":"{{new string('a', 4001)}}"}""", "/stream_auth_token" },
        { """{"stream_url":"wss://x.test/s","client_state":"not base64!"}""", "/client_state" },
    };

    private static DialRequest Dial(string to = "+18124040851", MediaStreamRequest? stream = null) =>
        new(to, "call-42", Guid.NewGuid().ToString(), stream);

    private static Task<DeliveredWebhook> Delivered(TelnyxHarness h, string eventType) =>
        h.Emulator.WaitForWebhookAsync(w => w.EventType == eventType && w.StatusCode == 200, Timeout, Ct);

    private static HttpClient Rest(TelnyxEmulator emulator) => new()
    {
        BaseAddress = new Uri(emulator.ApiBaseUrl + "/"),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", emulator.ApiKey) },
    };

    private static Task<HttpResponseMessage> StreamingStartAsync(HttpClient rest, string callControlId, string json) =>
        rest.PostAsync($"calls/{Uri.EscapeDataString(callControlId)}/actions/streaming_start", new StringContent(json, Encoding.UTF8, "application/json"), Ct);

    private static async Task<JsonNode?> Json(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct));

    [Fact]
    public async Task StreamDropped_CallStaysUp_StreamingStartConnectsToNewUrlWithNewToken()
    {
        await using var h = await TelnyxHarness.StartAsync();
        await using var lost = await FakeMediaServer.StartAsync(async (agent, token) =>
        {
            await agent.NextAsync("start", token);
            await agent.CloseAsync(token);
        });
        await using var resumed = await FakeMediaServer.StartAsync();
        var callee = new StreamingCallee(call => call.StreamsStarted == 1 ? new CallerScript() : new CallerScript().Say("still here").HangUp());
        h.Emulator.MediaCallee = callee.RunAsync;
        var firstUrl = lost.StreamUrl("/stream?call=call-42");
        var id = (await h.CallControl.DialAsync(Dial(stream: new MediaStreamRequest(firstUrl, "token-1", "PCMU", 8000)), Ct)).CallControlId;

        var dropped = await callee.WaitForRecordingAsync(id, Timeout, Ct);
        await Delivered(h, "streaming.stopped");
        using var rest = Rest(h.Emulator);
        var status = await Json(await rest.GetAsync($"calls/{Uri.EscapeDataString(id)}", Ct));

        Assert.Equal(CallEndReason.ServerClosed, dropped.EndReason);
        Assert.Equal(true, (bool?)status!["data"]!["is_alive"]);
        Assert.DoesNotContain(h.Emulator.Webhooks, w => w.EventType == "call.hangup");

        var secondUrl = resumed.StreamUrl("/stream?call=call-42&resumed=1");
        var response = await StreamingStartAsync(rest, id, $$"""
            {"stream_url":"{{secondUrl}}","stream_track":"inbound_track","stream_codec":"PCMU","stream_bidirectional_mode":"rtp",
             "stream_bidirectional_codec":"PCMU","stream_bidirectional_sampling_rate":8000,"stream_auth_token":"token-2","command_id":"resume-1"}
            """);
        var agent = await resumed.Connection.WaitAsync(Timeout, Ct);
        var second = await callee.WaitForRecordingAsync(id, 2, Timeout, Ct);
        await Delivered(h, "call.hangup");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(TelnyxFixtures.Bytes("rest_action_ok_response.apiref.json")), await Json(response)));
        Assert.Equal(("token-2", "?call=call-42&resumed=1"), (agent.AuthToken, agent.Query));
        var start = agent.Received.First(f => f.Event == "start").Json.GetProperty("start");
        Assert.Equal(id, start.GetProperty("call_control_id").GetString());
        Assert.Equal((CallEndReason.CallerHungUp, "still here"), (second.EndReason, Assert.Single(second.CallerLines).Text));
        Assert.Equal([dropped, second], callee.Recordings[id]);
        var call = h.Emulator.FindCall(id)!;
        Assert.Equal((2, secondUrl, "token-2"), (call.StreamsStarted, call.StreamUrl, call.StreamAuthToken));
        var streaming = h.Emulator.Webhooks.Where(w => w.EventType.StartsWith("streaming.", StringComparison.Ordinal) && w.StatusCode == 200).ToList();
        Assert.Equal(
            [("streaming.started", firstUrl.ToString()), ("streaming.stopped", firstUrl.ToString()), ("streaming.started", secondUrl.ToString()), ("streaming.stopped", secondUrl.ToString())],
            streaming.Select(w => (w.EventType, w.Payload.GetProperty("stream_url").GetString())));
        Assert.Equal("callee", h.Emulator.Webhooks.Single(w => w.EventType == "call.hangup" && w.StatusCode == 200).Payload.GetProperty("hangup_source").GetString());
        Assert.Empty(h.Emulator.BackgroundFailures);
    }

    [Fact]
    public async Task StreamingStart_RepeatedCommandId_StartsOneStreamAndStopsTheOpenOne()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var streams = Channel.CreateUnbounded<(int Number, string Url, string? Token, CancellationToken Stream)>();
        h.Emulator.MediaCallee = (call, token) =>
        {
            streams.Writer.TryWrite((call.StreamsStarted, call.StreamUrl!.OriginalString, call.StreamAuthToken, token));
            return Task.CompletedTask;
        };
        var id = (await h.CallControl.DialAsync(Dial(stream: new MediaStreamRequest(new Uri("ws://127.0.0.1:9/first"), "token-1", "PCMU", 8000)), Ct)).CallControlId;
        var first = await streams.Reader.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        using var rest = Rest(h.Emulator);
        const string body = """
            {"stream_url":"wss://resume.example.test/stream?call=call-42","stream_bidirectional_mode":"rtp","stream_bidirectional_codec":"L16",
             "stream_bidirectional_sampling_rate":16000,"stream_auth_token":"token-2","command_id":"resume-1"}
            """;

        var responses = new[] { await StreamingStartAsync(rest, id, body), await StreamingStartAsync(rest, id, body) };
        var second = await streams.Reader.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal([false, true], h.Emulator.Commands.Where(c => c.Action == "streaming_start").Select(c => c.Duplicate));
        Assert.Equal(2, h.Emulator.FindCall(id)!.StreamsStarted);
        Assert.Equal((1, "ws://127.0.0.1:9/first", "token-1"), (first.Number, first.Url, first.Token));
        Assert.Equal((2, "wss://resume.example.test/stream?call=call-42", "token-2"), (second.Number, second.Url, second.Token));
        Assert.True(first.Stream.IsCancellationRequested);
        Assert.False(second.Stream.IsCancellationRequested);
        var call = h.Emulator.FindCall(id)!;
        Assert.Equal(("L16", 16000, null, null), (call.StreamBidirectionalCodec, call.StreamSampleRate, call.StreamCodec, call.StreamTrack));
    }

    [Fact]
    public async Task StreamingStart_NotAnsweredThenEnded_Answers422()
    {
        await using var h = await TelnyxHarness.StartAsync(new TelnyxEmulatorOptions
        {
            Callees = new Dictionary<string, CalleeScript> { ["+34910000000"] = new() { AnswerAfter = TimeSpan.FromHours(1) } },
        });
        var id = (await h.CallControl.DialAsync(Dial("+34910000000"), Ct)).CallControlId;
        using var rest = Rest(h.Emulator);
        const string body = """{"stream_url":"wss://resume.example.test/stream","command_id":"resume-1"}""";

        var ringing = await StreamingStartAsync(rest, id, body);
        var ringingError = (await Json(ringing))!["errors"]![0]!;
        await h.CallControl.HangupAsync(id, Ct);
        var ended = await StreamingStartAsync(rest, id, body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, ringing.StatusCode);
        Assert.Equal(("90034", "Call not answered"), ((string?)ringingError["code"], (string?)ringingError["title"]));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ended.StatusCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(TelnyxFixtures.Bytes("rest_error_422_call_already_ended.json")), await Json(ended)));
        var call = h.Emulator.FindCall(id)!;
        Assert.Equal((0, null), (call.StreamsStarted, call.StreamUrl));
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task StreamingStart_InvalidBody_Answers422WithPointer(string body, string pointer)
    {
        await using var h = await TelnyxHarness.StartAsync();
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;
        await Delivered(h, "call.answered");
        using var rest = Rest(h.Emulator);

        var response = await StreamingStartAsync(rest, id, body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var error = (await Json(response))!["errors"]![0]!;
        Assert.Equal(("10015", "Invalid value", pointer), ((string?)error["code"], (string?)error["title"], (string?)error["source"]!["pointer"]));
        Assert.Equal((0, null), (h.Emulator.FindCall(id)!.StreamsStarted, h.Emulator.FindCall(id)!.StreamUrl));
    }
}
