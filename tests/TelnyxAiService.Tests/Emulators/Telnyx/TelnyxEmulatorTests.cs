using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Telephony;
using TelnyxAiService.Telephony.Telnyx;
using TelnyxAiService.Tests.Telephony;

namespace TelnyxAiService.Tests.Emulators.Telnyx;

public sealed class TelnyxEmulatorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DialRequest Dial(string to = "+18124040851", MediaStreamRequest? stream = null) =>
        new(to, "call-42", Guid.NewGuid().ToString(), stream);

    private static Task<DeliveredWebhook> Delivered(TelnyxHarness h, string eventType) =>
        h.Emulator.WaitForWebhookAsync(w => w.EventType == eventType && w.StatusCode == 200, Timeout, Ct);

    private static HttpClient Rest(TelnyxEmulator emulator, string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(emulator.ApiBaseUrl + "/") };
        if ((key ?? emulator.ApiKey) is { Length: > 0 } apiKey)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    private static JsonNode? Fixture(string name) => JsonNode.Parse(TelnyxFixtures.Bytes(name));

    private static async Task<JsonNode?> Json(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct));

    [Fact]
    public async Task Webhooks_SignedByEmulator_VerifyWithItsPublicKey()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var verifier = new TelnyxWebhookVerifier(Convert.FromBase64String(h.Emulator.PublicKeyBase64), TimeProvider.System);

        await h.CallControl.DialAsync(Dial(), Ct);
        await Delivered(h, "call.answered");

        Assert.Equal(2, h.Receiver.Received.Count);
        foreach (var webhook in h.Receiver.Received)
        {
            Assert.Equal(WebhookVerification.Valid, verifier.Verify(webhook.Signature, webhook.Timestamp, webhook.Body));
            var tampered = webhook.Body.ToArray();
            tampered[^3] ^= 1;
            Assert.Equal(WebhookVerification.BadSignature, verifier.Verify(webhook.Signature, webhook.Timestamp, tampered));
        }
    }

    [Fact]
    public void Signer_FixtureSeed_ReproducesFixtureSignature()
    {
        var signer = new WebhookSigner(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));

        Assert.Equal("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", signer.PublicKeyBase64);
        Assert.Equal(
            "zZk8Xo//Ym/0HzEEyuXURwWs/FOE/z7Bex9V/OJsasJVJJoN4HPsfZLSr4wJuiY1QVwAgf0HANZngO5guQ0XDQ==",
            signer.Sign(1763868601, TelnyxFixtures.Bytes("signature_test_vector.body.bin")));
    }

    [Fact]
    public async Task Webhooks_Envelope_HasTelnyxShapeAndEchoesClientState()
    {
        await using var h = await TelnyxHarness.StartAsync();

        var result = await h.CallControl.DialAsync(Dial(), Ct);
        await Delivered(h, "call.answered");

        var initiated = JsonNode.Parse(h.Receiver.Received[0].Body)!;
        Assert.Equal(["data", "meta"], initiated.AsObject().Select(p => p.Key));
        Assert.Equal(["event_type", "id", "occurred_at", "payload", "record_type"], initiated["data"]!.AsObject().Select(p => p.Key));
        Assert.Equal("event", (string?)initiated["data"]!["record_type"]);
        Assert.Equal(1, (int?)initiated["meta"]!["attempt"]);
        Assert.Equal(h.Receiver.WebhookUrl.ToString(), (string?)initiated["meta"]!["delivered_to"]);
        var payload = initiated["data"]!["payload"]!;
        Assert.Equal(Convert.ToBase64String("call-42"u8), (string?)payload["client_state"]);
        Assert.Equal(("outgoing", "bridging"), ((string?)payload["direction"], (string?)payload["state"]));
        Assert.Equal((TelnyxHarness.ConnectionId, TelnyxHarness.OurNumber, "+18124040851"), ((string?)payload["connection_id"], (string?)payload["from"], (string?)payload["to"]));

        var answered = h.Receiver.Received[1].Event;
        Assert.Equal(("call.answered", result.CallControlId, result.CallLegId, result.CallSessionId, "call-42"),
            (answered.EventType, answered.CallControlId, answered.CallLegId, answered.CallSessionId, answered.ClientState));
    }

    [Fact]
    public async Task Callee_WebhookMode_SaysLinesAfterEachSpeakThenHangsUp()
    {
        await using var h = await TelnyxHarness.StartAsync(new TelnyxEmulatorOptions
        {
            Callee = new CalleeScript { Lines = ["I would like a table", "Yes at eight"] },
        });

        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;
        await Delivered(h, "call.answered");
        await h.CallControl.StartTranscriptionAsync(id, "en", Ct);
        await h.CallControl.SpeakAsync(id, "Hello, how can I help?", "en", Ct);
        foreach (var line in new[] { "I would like a table", "Yes at eight" })
        {
            await h.Emulator.WaitForWebhookAsync(w => w.EventType == "call.transcription" && w.Payload.GetProperty("transcription_data").GetProperty("transcript").GetString() == line, Timeout, Ct);
            await h.CallControl.SpeakAsync(id, "Sure.", "en", Ct);
        }

        await Delivered(h, "call.hangup");

        var events = h.Receiver.Received.Select(r => r.Event).ToList();
        Assert.Equal(
            ["call.initiated", "call.answered",
             "call.speak.started", "call.speak.ended", "call.transcription", "call.transcription",
             "call.speak.started", "call.speak.ended", "call.transcription", "call.transcription",
             "call.speak.started", "call.speak.ended", "call.hangup"],
            events.Select(e => e.EventType));
        Assert.All(events.Where(e => e.EventType == "call.speak.ended"), e => Assert.Equal("completed", e.Status));
        var transcripts = events.Where(e => e.EventType == "call.transcription").ToList();
        Assert.Equal([false, true, false, true], transcripts.Select(t => t.IsFinal!.Value));
        Assert.Equal(("I would like a table", 0.9), (transcripts[1].Transcript, transcripts[1].Confidence));
        Assert.StartsWith(transcripts[0].Transcript!, "I would like a table", StringComparison.Ordinal);
        var hangup = events[^1];
        Assert.Equal(("normal_clearing", "callee", "200"), (hangup.HangupCause, hangup.HangupSource, hangup.SipHangupCause));
        var payload = h.Emulator.Webhooks.Last(w => w.EventType == "call.hangup").Payload;
        Assert.Equal(JsonValueKind.String, payload.GetProperty("call_quality_stats").GetProperty("inbound").GetProperty("mos").ValueKind);
        Assert.True(DateTimeOffset.Parse(payload.GetProperty("end_time").GetString()!) >= DateTimeOffset.Parse(payload.GetProperty("start_time").GetString()!));
        Assert.False(h.Emulator.FindCall(id)!.IsAlive);
        Assert.Empty(h.Emulator.BackgroundFailures);
    }

    [Fact]
    public async Task Delivery_ReceiverAnswers500_RetriesWithNextAttempt()
    {
        await using var h = await TelnyxHarness.StartAsync(failWebhooks: 1);

        await h.CallControl.DialAsync(Dial(), Ct);
        await Delivered(h, "call.answered");

        var attempts = h.Emulator.Webhooks.Where(w => w.EventType == "call.initiated").ToList();
        Assert.Equal([(1, (int?)500), (2, 200)], attempts.Select(a => (a.Attempt, a.StatusCode)));
        var received = h.Receiver.Received;
        Assert.Equal((received[0].Event.Id, 1), (received[1].Event.Id, received[0].Event.Attempt));
        Assert.Equal(2, received[1].Event.Attempt);
    }

    [Fact]
    public async Task Delivery_DuplicateKnob_DeliversEachEventTwice()
    {
        await using var h = await TelnyxHarness.StartAsync(new TelnyxEmulatorOptions { DuplicateWebhooks = true });

        await h.CallControl.DialAsync(Dial(), Ct);
        await h.Emulator.WaitForWebhookAsync(_ => h.Emulator.Webhooks.Count(x => x.EventType == "call.answered") == 2, Timeout, Ct);

        var ids = h.Receiver.Received.Select(r => r.Event.Id).ToList();
        Assert.Equal(4, ids.Count);
        Assert.Equal(2, ids.Distinct().Count());
    }

    [Theory]
    [InlineData(CalleeOutcome.Busy, "user_busy")]
    [InlineData(CalleeOutcome.NoAnswer, "no_answer")]
    public async Task Callee_DoesNotAnswer_HangsUpWithCause(CalleeOutcome outcome, string cause)
    {
        await using var h = await TelnyxHarness.StartAsync(new TelnyxEmulatorOptions
        {
            Callees = new Dictionary<string, CalleeScript> { ["+34910000000"] = new() { Outcome = outcome } },
        });

        await h.CallControl.DialAsync(Dial("+34910000000"), Ct);
        var hangup = await Delivered(h, "call.hangup");

        Assert.Equal(cause, hangup.Payload.GetProperty("hangup_cause").GetString());
        Assert.Equal(["call.initiated", "call.hangup"], h.Receiver.Received.Select(r => r.Event.EventType));
    }

    [Fact]
    public async Task Playback_FetchesAudioAndReportsCompletion()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;
        await Delivered(h, "call.answered");

        await h.CallControl.StartPlaybackAsync(id, new Uri(h.Receiver.BaseUrl, "/audio/hello.wav"), Ct);
        var ended = await Delivered(h, "call.playback.ended");
        await h.CallControl.StartPlaybackAsync(id, new Uri(h.Receiver.BaseUrl, "/audio/missing.wav"), Ct);
        var missing = await h.Emulator.WaitForWebhookAsync(w => w.EventType == "call.playback.ended" && w.EventId != ended.EventId, Timeout, Ct);

        Assert.Equal("completed", ended.Payload.GetProperty("status").GetString());
        Assert.EndsWith("/audio/hello.wav", ended.Payload.GetProperty("media_url").GetString(), StringComparison.Ordinal);
        Assert.Equal("file_not_found", missing.Payload.GetProperty("status").GetString());
        var fetches = h.Emulator.FindCall(id)!.AudioFetches;
        Assert.Equal([(200, 4000), (404, 0)], fetches.Select(f => (f.StatusCode!.Value, f.Bytes)));
        Assert.Contains("call.playback.started", h.Receiver.Received.Select(r => r.Event.EventType));
    }

    [Fact]
    public async Task Hangup_WhileSpeaking_EndsCallAndSpeech()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;
        await Delivered(h, "call.answered");

        await h.CallControl.SpeakAsync(id, new string('a', 3000), "en", Ct);
        await Delivered(h, "call.speak.started");
        await h.CallControl.HangupAsync(id, Ct);
        var speakEnded = await Delivered(h, "call.speak.ended");
        var hangup = await Delivered(h, "call.hangup");

        Assert.Equal("call_hangup", speakEnded.Payload.GetProperty("status").GetString());
        Assert.Equal(("normal_clearing", "caller"), (hangup.Payload.GetProperty("hangup_cause").GetString(), hangup.Payload.GetProperty("hangup_source").GetString()));
        using var rest = Rest(h.Emulator);
        var status = await Json(await rest.GetAsync($"calls/{Uri.EscapeDataString(id)}", Ct));
        Assert.Equal(false, (bool?)status!["data"]!["is_alive"]);
        Assert.NotNull(status["data"]!["end_time"]);
    }

    [Fact]
    public async Task Transfer_EndsOurLegShortlyAfter()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;
        await Delivered(h, "call.answered");

        await h.CallControl.TransferAsync(id, "+18005550100", Ct);
        var hangup = await Delivered(h, "call.hangup");

        Assert.Equal("normal_clearing", hangup.Payload.GetProperty("hangup_cause").GetString());
    }

    [Fact]
    public async Task MediaCallee_StreamCallAnswered_RunsUntilCallEndsAndSaysNoTranscripts()
    {
        await using var h = await TelnyxHarness.StartAsync(new TelnyxEmulatorOptions { Callee = new CalleeScript { Lines = ["hello"] } });
        var started = new TaskCompletionSource<EmulatedCall>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Emulator.MediaCallee = async (call, token) =>
        {
            await call.SendEventAsync("streaming.started", new Dictionary<string, JsonNode?> { ["stream_url"] = call.StreamUrl!.ToString() }, token);
            started.SetResult(call);
            await Task.Delay(System.Threading.Timeout.Infinite, token).ContinueWith(_ => stopped.SetResult(), TaskScheduler.Default);
        };
        var stream = new MediaStreamRequest(new Uri("ws://127.0.0.1:9/stream/media?call=call-42"), "tok-1", "PCMU", 8000);

        var id = (await h.CallControl.DialAsync(Dial(stream: stream), Ct)).CallControlId;
        var call = await started.Task.WaitAsync(Timeout, Ct);
        await h.CallControl.StartTranscriptionAsync(id, "en", Ct);
        await h.CallControl.SpeakAsync(id, "Hi", "en", Ct);
        await Delivered(h, "call.speak.ended");
        await Delivered(h, "streaming.started");
        await call.CalleeHangUpAsync("normal_clearing", Ct);
        await stopped.Task.WaitAsync(Timeout, Ct);
        await Delivered(h, "call.hangup");

        Assert.Equal((id, "tok-1", "PCMU", 8000, "ws://127.0.0.1:9/stream/media?call=call-42"),
            (call.CallControlId, call.StreamAuthToken, call.StreamCodec, call.StreamSampleRate, call.StreamUrl!.OriginalString));
        Assert.Equal(Convert.ToBase64String("call-42"u8), call.ClientState);
        Assert.DoesNotContain("call.transcription", h.Receiver.Received.Select(r => r.Event.EventType));
        var streaming = h.Receiver.Received.Single(r => r.Event.EventType == "streaming.started").Event;
        Assert.Equal((id, "call-42", "ws://127.0.0.1:9/stream/media?call=call-42"), (streaming.CallControlId, streaming.ClientState, streaming.StreamUrl));
        Assert.Equal("callee", h.Receiver.Received[^1].Event.HangupSource);
    }

    [Fact]
    public async Task Rest_MissingOrWrongKey_Answers401InTelnyxShape()
    {
        await using var emulator = await TelnyxEmulator.StartAsync(new TelnyxEmulatorOptions(), Ct);
        using var none = Rest(emulator, "");
        using var wrong = Rest(emulator, "KEY_nope");

        foreach (var client in new[] { none, wrong })
        {
            var response = await client.PostAsJsonAsync("calls", new { connection_id = "c" }, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("10009", (string?)(await Json(response))!["errors"]![0]!["code"]);
        }

        Assert.Empty(emulator.Commands);
    }

    [Fact]
    public async Task Rest_DialAndActions_AnswerInFixtureShapes()
    {
        await using var emulator = await TelnyxEmulator.StartAsync(new TelnyxEmulatorOptions { DefaultWebhookUrl = new Uri("http://127.0.0.1:9/hook") }, Ct);
        using var rest = Rest(emulator);

        var dial = await rest.PostAsJsonAsync("calls", new { connection_id = "c", to = "+18124040851", from = "+13057864498" }, Ct);
        var data = (await Json(dial))!["data"]!.AsObject();
        var id = (string)data["call_control_id"]!;
        var speak = await rest.PostAsJsonAsync($"calls/{Uri.EscapeDataString(id)}/actions/speak", new { payload = "Hi", voice = "female" }, Ct);
        var noVoice = await rest.PostAsJsonAsync($"calls/{Uri.EscapeDataString(id)}/actions/speak", new { payload = "Hi" }, Ct);
        var unknown = await rest.PostAsJsonAsync("calls/v3:nope/actions/speak", new { payload = "Hi", voice = "female" }, Ct);
        var badAction = await rest.PostAsJsonAsync($"calls/{Uri.EscapeDataString(id)}/actions/dance", new { }, Ct);
        await rest.PostAsJsonAsync($"calls/{Uri.EscapeDataString(id)}/actions/hangup", new { }, Ct);
        var ended = await rest.PostAsJsonAsync($"calls/{Uri.EscapeDataString(id)}/actions/speak", new { payload = "Hi", voice = "female" }, Ct);

        Assert.Equal(HttpStatusCode.OK, dial.StatusCode);
        Assert.Equal(Fixture("rest_dial_response.docs.json")!["data"]!.AsObject().Select(p => p.Key), data.Select(p => p.Key));
        Assert.False((bool)data["is_alive"]!);
        Assert.StartsWith("v3:", id, StringComparison.Ordinal);
        Assert.True(id.Contains('-', StringComparison.Ordinal) && id.Contains('_', StringComparison.Ordinal));
        Assert.True(JsonNode.DeepEquals(Fixture("rest_action_ok_response.apiref.json"), await Json(speak)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noVoice.StatusCode);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"errors":[{"code":"10015","title":"Invalid value","detail":"voice is required.","source":{"pointer":"/voice"}}]}"""),
            await Json(noVoice)));
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (unknown.StatusCode, badAction.StatusCode));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ended.StatusCode);
        Assert.True(JsonNode.DeepEquals(Fixture("rest_error_422_call_already_ended.json"), await Json(ended)));
    }

    [Theory]
    [InlineData("""{"to":"+18124040851","from":"+13057864498","webhook_url":"http://x.test/h"}""", "/connection_id")]
    [InlineData("""{"connection_id":"c","to":"555-1234","from":"+13057864498","webhook_url":"http://x.test/h"}""", "/to")]
    [InlineData("""{"connection_id":"c","to":"+18124040851","webhook_url":"http://x.test/h"}""", "/from")]
    [InlineData("""{"connection_id":"c","to":"+18124040851","from":"+13057864498"}""", "/webhook_url")]
    [InlineData("""{"connection_id":"c","to":"+18124040851","from":"+13057864498","webhook_url":"http://x.test/h","client_state":"not base64!"}""", "/client_state")]
    [InlineData("""{"connection_id":"c","to":"+18124040851","from":"+13057864498","webhook_url":"http://x.test/h","stream_url":"wss://x.test/s","stream_bidirectional_codec":"pcmu"}""", "/stream_bidirectional_codec")]
    [InlineData("""{"connection_id":"c","to":"+18124040851","from":"+13057864498","webhook_url":"http://x.test/h","stream_url":"wss://x.test/s","stream_bidirectional_sampling_rate":11025}""", "/stream_bidirectional_sampling_rate")]
    public async Task Rest_InvalidDial_Answers422WithPointer(string body, string pointer)
    {
        await using var emulator = await TelnyxEmulator.StartAsync(new TelnyxEmulatorOptions(), Ct);
        using var rest = Rest(emulator);

        var response = await rest.PostAsync("calls", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal(pointer, (string?)(await Json(response))!["errors"]![0]!["source"]!["pointer"]);
        Assert.Empty(emulator.Calls);
    }

    [Fact]
    public async Task Rest_OverRateLimit_Answers429WithHeaders()
    {
        await using var emulator = await TelnyxEmulator.StartAsync(new TelnyxEmulatorOptions { RequestsPerSecond = 1 }, Ct);
        using var rest = Rest(emulator);

        var first = await rest.GetAsync("calls/v3:nope", Ct);
        var second = await rest.GetAsync("calls/v3:nope", Ct);

        Assert.Equal((HttpStatusCode.NotFound, "1", "0"), (first.StatusCode, first.Headers.GetValues("x-ratelimit-limit").Single(), first.Headers.GetValues("x-ratelimit-remaining").Single()));
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("1", second.Headers.GetValues("x-ratelimit-reset").Single());
        Assert.True(JsonNode.DeepEquals(Fixture("rest_error_429_rate_limited.docs.json"), await Json(second)));
    }
}
