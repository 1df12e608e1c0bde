using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Storage;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Calls;

/// <summary>Someone calls our Telnyx number: the service answers the parked call and the agent talks, greeting first.</summary>
public sealed class InboundCallTests
{
    private const string Caller = "+18124040851";
    private const string OurNumber = "+15550100000";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task InboundCall_CallControlMode_AnsweredGreetedAnsweredAndStoredAsInbound()
    {
        const string line = "What time do you open on Saturday";
        const string reply = "We open at nine on Saturday.";
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                MediaStreams = false,
                Telnyx = new TelnyxEmulatorOptions { DuplicateWebhooks = true },
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(reply) },
                Settings = { ["INBOUND_CONTEXT"] = "Riverside Clinic reception desk" },
            },
            Ct);

        var call = harness.Telnyx.PlaceInboundCall(Caller, OurNumber, new CalleeScript { Lines = [line] });

        var answer = await harness.Telnyx.WaitForCommandAsync(c => c.Action == "answer", Timeout, Ct);
        Assert.Equal(call.CallControlId, answer.CallControlId);
        var callId = Encoding.UTF8.GetString(Convert.FromBase64String(answer.Body.GetProperty("client_state").GetString()!));
        Assert.Equal(callId, answer.CommandId);
        Assert.DoesNotContain(answer.Body.EnumerateObject(), p => p.Name.StartsWith("stream_", StringComparison.Ordinal));

        var greeting = await harness.Telnyx.WaitForCommandAsync(c => c.Action == "speak", Timeout, Ct);
        Assert.Equal(call.CallControlId, greeting.CallControlId);
        Assert.Equal("Hello, thanks for calling. How can I help you?", greeting.Body.GetProperty("payload").GetString());

        await harness.Telnyx.WaitForCommandAsync(c => c.Action == "speak" && c.Body.GetProperty("payload").GetString() == reply, Timeout, Ct);
        var request = Assert.Single(harness.Anthropic.Requests);
        Assert.Equal(line, request.Messages[^1].Text);
        Assert.Contains("Riverside Clinic reception desk", request.System);

        var stored = await WaitForEndAsync(harness, callId);
        Assert.Single(harness.Telnyx.Commands, c => c.Action == "answer");
        Assert.Equal(2, harness.Telnyx.Webhooks.Count(w => w.EventType == "call.initiated" && w.StatusCode == 200));
        var view = stored.GetProperty("call");
        Assert.Equal(("inbound", Caller, "completed"), (view.GetProperty("direction").GetString(), view.GetProperty("phone").GetString(), view.GetProperty("status").GetString()));
        Assert.Equal((call.CallControlId, call.CallLegId, call.CallSessionId),
            (view.GetProperty("call_control_id").GetString(), view.GetProperty("call_leg_id").GetString(), view.GetProperty("call_session_id").GetString()));
        Assert.Equal("normal_clearing", view.GetProperty("hangup_cause").GetString());
        Assert.Equal(
            [("agent", "Hello, thanks for calling. How can I help you?"), ("caller", line), ("agent", reply)],
            stored.GetProperty("transcript").EnumerateArray().Select(t => (t.GetProperty("speaker").GetString(), t.GetProperty("text").GetString())));
        var page = await harness.Client.GetFromJsonAsync<JsonElement>("/api/calls", Ct);
        Assert.Equal(callId, Assert.Single(page.GetProperty("calls").EnumerateArray()).GetProperty("call_id").GetString());
    }

    [Fact]
    public async Task InboundCall_MediaStream_AnswerCarriesStreamAndCallerHearsGreetingThenReply()
    {
        const string greeting = "Thanks for calling Riverside Clinic, how can I help?";
        const string line = "I would like to book a cleaning for Monday";
        const string reply = "Monday at ten works. Shall I book it?";
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(reply) },
                Deepgram = new DeepgramEmulatorOptions { Segments = [line] },
                Caller = _ => new CallerScript().WaitForAgentToFinish().Say(line).WaitForAgentToFinish().HangUp(),
                Settings = { ["INBOUND_GREETING"] = greeting },
            },
            Ct);

        var call = harness.Telnyx.PlaceInboundCall(Caller, OurNumber);
        var recording = await harness.Callee!.WaitForRecordingAsync(call.CallControlId, TimeSpan.FromSeconds(60), Ct);

        var answer = Assert.Single(harness.Telnyx.Commands, c => c.Action == "answer");
        var body = answer.Body;
        var callId = Encoding.UTF8.GetString(Convert.FromBase64String(body.GetProperty("client_state").GetString()!));
        Assert.Equal(callId, answer.CommandId);
        var streamUrl = new Uri(body.GetProperty("stream_url").GetString()!);
        Assert.Equal(("ws", "127.0.0.1", "/stream/media"), (streamUrl.Scheme, streamUrl.Host, streamUrl.AbsolutePath));
        Assert.StartsWith("?token=", streamUrl.Query, StringComparison.Ordinal);
        Assert.Equal(
            ("inbound_track", "PCMU", "rtp", "PCMU"),
            (body.GetProperty("stream_track").GetString(), body.GetProperty("stream_codec").GetString(),
             body.GetProperty("stream_bidirectional_mode").GetString(), body.GetProperty("stream_bidirectional_codec").GetString()));
        Assert.False(body.TryGetProperty("stream_auth_token", out _));

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        var said = Assert.Single(recording.CallerLines);
        var greetingFrames = recording.Arrivals.Count(a => a.At < said.Start);
        var expected = SyntheticSpeech.DurationOf(greeting).TotalMilliseconds / 20;
        Assert.InRange(greetingFrames, expected - 3, expected + 3);
        Assert.Contains(recording.Arrivals, a => a.At > said.End);
        Assert.Equal(line, harness.Anthropic.Requests[^1].Messages[^1].Text);

        var stored = await WaitForEndAsync(harness, callId);
        var view = stored.GetProperty("call");
        Assert.Equal(("inbound", Caller, call.CallControlId), (view.GetProperty("direction").GetString(), view.GetProperty("phone").GetString(), view.GetProperty("call_control_id").GetString()));
        Assert.Equal(greeting, view.GetProperty("greeting").GetString());
        var turns = stored.GetProperty("transcript").EnumerateArray().Select(t => (t.GetProperty("speaker").GetString(), t.GetProperty("text").GetString())).ToList();
        Assert.Equal([("agent", greeting), ("caller", line)], turns.Take(2));
        Assert.Equal("agent", turns[2].Item1);
        Assert.Empty(harness.Telnyx.BackgroundFailures);
    }

    [Fact]
    public async Task Webhook_UnknownCallOtherEventsOrUnsigned_IgnoredOrRefusedAndNothingStored()
    {
        var seed = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false, Telnyx = new TelnyxEmulatorOptions { SigningKeySeed = seed } }, Ct);
        var signer = new WebhookSigner(seed);

        var answered = await DeliverAsync(harness, signer, "call.answered", new() { ["call_control_id"] = "v3:unknown-answered" });
        var hangup = await DeliverAsync(harness, signer, "call.hangup", new() { ["call_control_id"] = "v3:unknown-hangup", ["hangup_cause"] = "normal_clearing" });
        var outgoing = await DeliverAsync(harness, signer, "call.initiated", new() { ["call_control_id"] = "v3:unknown-outgoing", ["direction"] = "outgoing", ["state"] = "bridging" });
        var unsigned = await DeliverAsync(harness, null, "call.initiated", new() { ["call_control_id"] = "v3:unsigned-incoming", ["direction"] = "incoming", ["state"] = "parked" });

        Assert.Equal(
            [(HttpStatusCode.OK, "ignored"), (HttpStatusCode.OK, "ignored"), (HttpStatusCode.OK, "ignored")],
            new[] { answered, hangup, outgoing }.Select(r => (r.Status, r.Body.GetProperty("status").GetString())));
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.Status);
        var page = await harness.Client.GetFromJsonAsync<JsonElement>("/api/calls", Ct);
        Assert.Equal(0, page.GetProperty("calls").GetArrayLength());
        var stats = await harness.Client.GetFromJsonAsync<JsonElement>("/api/sessions/stats", Ct);
        Assert.Equal(0, stats.GetProperty("calls_started").GetInt64());
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "answer");
    }

    [Fact]
    public async Task Webhook_IncomingCallInitiatedRepeated_AcknowledgedAndTakenOnce()
    {
        var seed = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false, Telnyx = new TelnyxEmulatorOptions { SigningKeySeed = seed } }, Ct);
        var signer = new WebhookSigner(seed);
        Dictionary<string, object?> Incoming() => new() { ["call_control_id"] = "v3:repeated-incoming", ["direction"] = "incoming", ["state"] = "parked" };

        var together = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => DeliverAsync(harness, signer, "call.initiated", Incoming())));
        await Wait.UntilAsync(async () => (await harness.Client.GetFromJsonAsync<JsonElement>("/api/calls?status=failed", Ct)).GetProperty("calls").GetArrayLength() == 1, "the call, answered for a call Telnyx does not know, to end");
        var later = await DeliverAsync(harness, signer, "call.initiated", Incoming());

        Assert.All([.. together, later], r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Single(harness.Telnyx.Commands, c => c.Action == "answer");
        Assert.Equal(1, (await harness.Client.GetFromJsonAsync<JsonElement>("/api/calls", Ct)).GetProperty("calls").GetArrayLength());
    }

    [Fact]
    public async Task Restart_InboundCallStoredBeforeItsIds_TakenOverEndedUnansweredAndCallerNeverDialled()
    {
        var settings = new Dictionary<string, string>
        {
            ["DATABASE_URL"] = $"sqlite:{Path.Combine(Path.GetTempPath(), $"telnyx-ai-test-{Guid.NewGuid():N}.db")}",
            ["INSTANCE_ID"] = "inbound-restart",
        };
        string crashedHolder;
        await using (var first = await ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false, Settings = new(settings) }, Ct))
        {
            crashedHolder = first.Services.GetRequiredService<StorageOptions>().LeaseHolder;
            var store = first.Services.GetRequiredService<ICallStore>();
            await store.InsertCallAsync(new NewCall("inbound-crashed", CallDirection.Inbound, Caller, crashedHolder), Ct);
        }

        await using var second = await ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false, Settings = new(settings) }, Ct);

        JsonElement stored = default;
        await Wait.UntilAsync(
            async () =>
            {
                stored = (await second.Client.GetFromJsonAsync<JsonElement>("/api/calls/inbound-crashed", Ct)).GetProperty("call");
                return stored.TryGetProperty("ended_at", out var at) && at.ValueKind != JsonValueKind.Null;
            },
            "the restarted service to take the call over and end it");
        var holder = second.Services.GetRequiredService<StorageOptions>().LeaseHolder;
        Assert.NotEqual(crashedHolder, holder);
        Assert.StartsWith("inbound-restart/", holder, StringComparison.Ordinal);
        Assert.Equal(("no_answer", "ended_while_unattended", "inbound-restart"), (
            stored.GetProperty("status").GetString(), stored.GetProperty("end_reason").GetString(), stored.GetProperty("instance_id").GetString()));
        Assert.DoesNotContain(second.Telnyx.Commands, c => c.Action is "dial" or "answer" or "hangup");
    }

    [Fact]
    public async Task Restart_CallHeldByHolderWithoutLease_TakenOverAtOnce()
    {
        var settings = new Dictionary<string, string>
        {
            ["DATABASE_URL"] = $"sqlite:{Path.Combine(Path.GetTempPath(), $"telnyx-ai-test-{Guid.NewGuid():N}.db")}",
            ["INSTANCE_ID"] = "inbound-restart",
        };
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false, Settings = new(settings) }, Ct);
        var store = harness.Services.GetRequiredService<ICallStore>();
        await store.InsertCallAsync(new NewCall("inbound-orphan", CallDirection.Inbound, Caller, "gone-instance/0000"), Ct);

        await Wait.UntilAsync(
            async () => (await harness.Client.GetFromJsonAsync<JsonElement>("/api/calls/inbound-orphan", Ct)).GetProperty("call").TryGetProperty("ended_at", out var at) && at.ValueKind != JsonValueKind.Null,
            "the running service to take over the call whose holder has no lease");
        var stored = (await harness.Client.GetFromJsonAsync<JsonElement>("/api/calls/inbound-orphan", Ct)).GetProperty("call");
        Assert.Equal(("no_answer", "inbound-restart"), (stored.GetProperty("status").GetString(), stored.GetProperty("instance_id").GetString()));
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action is "dial" or "answer");
    }

    /// <summary>Polls GET /api/calls/{id} until the call has ended and its last turn is stored.</summary>
    private static async Task<JsonElement> WaitForEndAsync(ServiceHarness harness, string callId)
    {
        JsonElement stored = default;
        await Wait.UntilAsync(
            async () =>
            {
                stored = await harness.Client.GetFromJsonAsync<JsonElement>($"/api/calls/{callId}", Ct);
                return stored.GetProperty("call").TryGetProperty("ended_at", out _)
                    && stored.GetProperty("transcript").GetArrayLength() >= 3;
            },
            "the inbound call to end and be stored",
            TimeSpan.FromSeconds(30));
        return stored;
    }

    /// <summary>Posts a webhook as Telnyx would (signed with <paramref name="signer"/>, unsigned when null).</summary>
    private static async Task<(HttpStatusCode Status, JsonElement Body)> DeliverAsync(ServiceHarness harness, WebhookSigner? signer, string eventType, Dictionary<string, object?> payload)
    {
        payload["call_leg_id"] = Guid.NewGuid().ToString();
        payload["call_session_id"] = Guid.NewGuid().ToString();
        payload["client_state"] = null;
        payload["from"] = Caller;
        payload["to"] = OurNumber;
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            data = new { event_type = eventType, id = Guid.NewGuid().ToString(), occurred_at = DateTimeOffset.UtcNow.ToString("O"), payload, record_type = "event" },
            meta = new { attempt = 1 },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/telnyx") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        if (signer is not null)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            request.Headers.Add("telnyx-signature-ed25519", signer.Sign(now, body));
            request.Headers.Add("telnyx-timestamp", now.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var response = await harness.Client.SendAsync(request, Ct);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(Ct));
    }
}
