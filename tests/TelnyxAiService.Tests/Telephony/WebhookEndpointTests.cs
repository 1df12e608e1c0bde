using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Telephony;

/// <summary>/webhook/telnyx on a live call: only genuine, fresh, untampered deliveries act, and each acts once.</summary>
public sealed class WebhookEndpointTests
{
    private static readonly byte[] EmulatorSeed = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Refusals => ["forged", "unsigned", "replayed", "future", "tampered", "garbage-signature"];

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Webhook_NotGenuine_401AndCallUntouched(string kind)
    {
        await using var harness = await StartAsync();
        var (callId, callControlId) = await PlaceCallAsync(harness);
        var body = HangupBody(callId, callControlId);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var genuine = new WebhookSigner(EmulatorSeed);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/telnyx") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        switch (kind)
        {
            case "forged":
                Sign(request, new WebhookSigner(null), now, body);
                break;
            case "replayed":
                Sign(request, genuine, now - 301, body);
                break;
            case "future":
                Sign(request, genuine, now + 301, body);
                break;
            case "tampered":
                Sign(request, genuine, now, body);
                request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("normal_clearing", "user_busy__")));
                request.Content.Headers.ContentType = new("application/json");
                break;
            case "garbage-signature":
                request.Headers.Add("telnyx-signature-ed25519", "not base64!");
                request.Headers.Add("telnyx-timestamp", now.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
        }

        using var refusals = new RefusalRecorder(harness.Services);
        var response = await harness.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Webhook refused.", (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());
        Assert.Equal("webhook", Assert.Single(refusals.Refusals).Surface);
        await AssertUntouchedUntilGenuineHangupAsync(harness, callId, callControlId);
    }

    [Fact]
    public async Task Webhook_NoPublicKeyConfigured_RefusedByDefault()
    {
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false, Settings = new() { ["TELNYX_PUBLIC_KEY"] = "" } }, Ct);
        var body = HangupBody("someone", "v3:abc");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/telnyx") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        Sign(request, new WebhookSigner(EmulatorSeed), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body);
        Assert.Equal(HttpStatusCode.Unauthorized, (await harness.Client.SendAsync(request, Ct)).StatusCode);
    }

    [Fact]
    public async Task Webhook_GenuineSignature_ActsOnce()
    {
        await using var harness = await StartAsync();
        var (callId, callControlId) = await PlaceCallAsync(harness);
        var body = HangupBody(callId, callControlId);
        for (var delivery = 0; delivery < 2; delivery++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/telnyx") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            Sign(request, new WebhookSigner(EmulatorSeed), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body);
            var response = await harness.Client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var status = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString();
            Assert.Equal(delivery == 0 ? "accepted" : "duplicate", status);
        }

        await Wait.UntilAsync(async () => await ActiveSessions(harness) == 0, "the genuine hangup to end the call");
    }

    [Theory]
    [InlineData("\"event_type\":\"call.hangup\"", "\"event_type\":42", "data.event_type")]
    [InlineData("\"hangup_cause\":\"normal_clearing\"", "\"hangup_cause\":[\"normal_clearing\"]", "data.payload.hangup_cause")]
    [InlineData("\"hangup_cause\":\"normal_clearing\"", "\"hangup_cause\":\"\\ud800\"", "data.payload.hangup_cause")]
    [InlineData("\"record_type\":\"event\"", "\"record_type\":\"event\",\"payload\":\"<b>\"", "data.payload")]
    public async Task Webhook_SignedButWrongTyped_400NamingTheFieldAndCallUntouched(string field, string wrong, string named)
    {
        await using var harness = await StartAsync();
        var (callId, callControlId) = await PlaceCallAsync(harness);
        var json = Encoding.UTF8.GetString(HangupBody(callId, callControlId));
        Assert.Contains(field, json, StringComparison.Ordinal);

        using var refusals = new RefusalRecorder(harness.Services);
        var response = await PostSignedAsync(harness, Encoding.UTF8.GetBytes(json.Replace(field, wrong, StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal([("webhook", "malformed")], refusals.Refusals);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString();
        Assert.Equal($"Malformed Telnyx webhook: {named} is malformed.", detail);
        await AssertUntouchedUntilGenuineHangupAsync(harness, callId, callControlId);
    }

    [Fact]
    public async Task Webhook_UnknownEventType_200IgnoredAndCallUntouched()
    {
        await using var harness = await StartAsync();
        var (callId, callControlId) = await PlaceCallAsync(harness);
        var json = Encoding.UTF8.GetString(HangupBody(callId, callControlId)).Replace("call.hangup", "call.conversation.ended", StringComparison.Ordinal);

        var response = await PostSignedAsync(harness, Encoding.UTF8.GetBytes(json));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ignored", (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        Assert.Equal(1, await ActiveSessions(harness));
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "hangup");
    }

    [Fact]
    public async Task Webhook_EveryEventDeliveredTwice_GreetingSpokenOnce()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                MediaStreams = false,
                Telnyx = new TelnyxEmulatorOptions { SigningKeySeed = EmulatorSeed, DuplicateWebhooks = true, Callee = new CalleeScript { Lines = ["What time do you open"] } },
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply("We open at nine.") },
            },
            Ct);
        var (callId, callControlId) = await PlaceCallAsync(harness);
        await harness.Telnyx.WaitForCommandAsync(c => c.Action == "speak" && c.Body.GetProperty("payload").GetString() == "We open at nine.", TimeSpan.FromSeconds(15), Ct);
        await Wait.UntilAsync(
            () => harness.Telnyx.Webhooks.GroupBy(w => w.EventId).All(copies => copies.Count(w => w.StatusCode == 200) == 2),
            "both copies of every webhook so far to be answered");

        // The session handles its events in order, so once a key press sent now is answered, any duplicate acted on
        // before it would have asked Claude again.
        Assert.Equal(HttpStatusCode.OK, (await PostSignedAsync(harness, EventBody("call.dtmf.received", callId, callControlId, new() { ["digit"] = "5" }))).StatusCode);
        await Wait.UntilAsync(() => harness.Telnyx.Commands.Count(c => c.Action == "speak") == 3, "the answer to the key press");
        Assert.Equal(2, harness.Anthropic.Requests.Count);
        Assert.Single(harness.Telnyx.Commands, c => c.Action == "transcription_start");
    }

    [Fact]
    public async Task Webhook_ClaudeDownThroughout_SpeaksFallbackLine()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                MediaStreams = false,
                Telnyx = new TelnyxEmulatorOptions { Callee = new CalleeScript { Lines = ["Can I book for Monday"] } },
            },
            Ct);
        for (var i = 0; i < 3; i++)
        {
            harness.Anthropic.EnqueueFault(new AnthropicFault.Http529());
        }

        await PlaceCallAsync(harness);
        var fallback = await harness.Telnyx.WaitForCommandAsync(
            c => c.Action == "speak" && c.Body.GetProperty("payload").GetString()!.Contains("technical problem", StringComparison.Ordinal), TimeSpan.FromSeconds(15), Ct);
        Assert.Equal(3, harness.Anthropic.Requests.Count);
        Assert.NotNull(fallback);
    }

    [Fact]
    public async Task Webhook_Claude529ThenSuccess_RetriesAndSpeaksAnswer()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                MediaStreams = false,
                Telnyx = new TelnyxEmulatorOptions { Callee = new CalleeScript { Lines = ["Can I book for Monday"] } },
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply("Yes, Monday is free.") },
            },
            Ct);
        harness.Anthropic.EnqueueFault(new AnthropicFault.Http529());
        await PlaceCallAsync(harness);
        await harness.Telnyx.WaitForCommandAsync(c => c.Action == "speak" && c.Body.GetProperty("payload").GetString() == "Yes, Monday is free.", TimeSpan.FromSeconds(15), Ct);
        Assert.Equal(2, harness.Anthropic.Requests.Count);
    }

    private static Task<ServiceHarness> StartAsync() => ServiceHarness.StartAsync(
        new HarnessOptions
        {
            MediaStreams = false,
            Telnyx = new TelnyxEmulatorOptions { SigningKeySeed = EmulatorSeed, Callee = new CalleeScript { AnswerAfter = TimeSpan.FromMinutes(5) } },
        },
        Ct);

    private static async Task<(string CallId, string CallControlId)> PlaceCallAsync(ServiceHarness harness)
    {
        var response = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111222", nombre = "Ana" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return (created.GetProperty("call_id").GetString()!, created.GetProperty("call_control_id").GetString()!);
    }

    /// <summary>
    /// Sends a genuine hangup with a cause of its own after the delivery under test and waits for the call to end: a
    /// call ends with the first hangup it acts on, so the recorded cause proves the earlier delivery was not acted on.
    /// </summary>
    private static async Task AssertUntouchedUntilGenuineHangupAsync(ServiceHarness harness, string callId, string callControlId)
    {
        Assert.Equal(HttpStatusCode.OK, (await PostSignedAsync(harness, HangupBody(callId, callControlId, "originator_cancel"))).StatusCode);
        var cause = default(JsonElement);
        await Wait.UntilAsync(
            async () => (await harness.Client.GetFromJsonAsync<JsonElement>($"/api/calls/{callId}", Ct)).GetProperty("call").TryGetProperty("hangup_cause", out cause),
            "the genuine hangup to end the call");
        Assert.Equal("originator_cancel", cause.GetString());
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "hangup");
    }

    private static byte[] HangupBody(string callId, string callControlId, string cause = "normal_clearing") =>
        EventBody("call.hangup", callId, callControlId, new() { ["hangup_cause"] = cause, ["hangup_source"] = "callee" });

    private static byte[] EventBody(string eventType, string callId, string callControlId, Dictionary<string, string> fields) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        data = new
        {
            event_type = eventType,
            id = Guid.NewGuid().ToString(),
            occurred_at = DateTimeOffset.UtcNow.ToString("O"),
            payload = new Dictionary<string, string>(fields) { ["call_control_id"] = callControlId, ["client_state"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(callId)) },
            record_type = "event",
        },
        meta = new { attempt = 1 },
    });

    private static async Task<HttpResponseMessage> PostSignedAsync(ServiceHarness harness, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/telnyx") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        Sign(request, new WebhookSigner(EmulatorSeed), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body);
        return await harness.Client.SendAsync(request, Ct);
    }

    private static void Sign(HttpRequestMessage request, WebhookSigner signer, long timestamp, byte[] body)
    {
        request.Headers.Add("telnyx-signature-ed25519", signer.Sign(timestamp, body));
        request.Headers.Add("telnyx-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<int> ActiveSessions(ServiceHarness harness) =>
        (await harness.Client.GetFromJsonAsync<JsonElement>("/api/sessions/stats", Ct)).GetProperty("active_sessions").GetInt32();
}
