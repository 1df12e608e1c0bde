using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Telephony;
using TelnyxAiService.Telephony.Telnyx;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Telephony;

public sealed class TelnyxCallControlTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DialRequest Dial(MediaStreamRequest? stream = null) =>
        new("+18124040851", "call-42", Guid.NewGuid().ToString(), stream);

    private static string[] Keys(JsonElement body) => [.. body.EnumerateObject().Select(p => p.Name).Order()];

    [Fact]
    public async Task Dial_WithStream_SendsExactBody()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var request = Dial(new MediaStreamRequest(new Uri("wss://calls.example.test/stream/media?call=call-42&token=t0k"), "secret-token", "PCMU", 8000));

        var result = await h.CallControl.DialAsync(request, Ct);

        var dial = Assert.Single(h.Emulator.Commands, c => c.Action == "dial");
        var body = dial.Body;
        Assert.Equal(
            ["client_state", "command_id", "connection_id", "from", "stream_auth_token", "stream_bidirectional_codec", "stream_bidirectional_mode",
             "stream_bidirectional_sampling_rate", "stream_codec", "stream_track", "stream_url", "timeout_secs", "to", "webhook_url"],
            Keys(body));
        Assert.Equal(TelnyxHarness.ConnectionId, body.GetProperty("connection_id").GetString());
        Assert.Equal("+18124040851", body.GetProperty("to").GetString());
        Assert.Equal(TelnyxHarness.OurNumber, body.GetProperty("from").GetString());
        Assert.Equal(h.Receiver.WebhookUrl.ToString(), body.GetProperty("webhook_url").GetString());
        Assert.Equal("call-42", Encoding.UTF8.GetString(Convert.FromBase64String(body.GetProperty("client_state").GetString()!)));
        Assert.Equal(request.CommandId, body.GetProperty("command_id").GetString());
        Assert.Equal(30, body.GetProperty("timeout_secs").GetInt32());
        Assert.Equal("wss://calls.example.test/stream/media?call=call-42&token=t0k", body.GetProperty("stream_url").GetString());
        Assert.Equal("inbound_track", body.GetProperty("stream_track").GetString());
        Assert.Equal("PCMU", body.GetProperty("stream_codec").GetString());
        Assert.Equal("PCMU", body.GetProperty("stream_bidirectional_codec").GetString());
        Assert.Equal("rtp", body.GetProperty("stream_bidirectional_mode").GetString());
        Assert.Equal(8000, body.GetProperty("stream_bidirectional_sampling_rate").GetInt32());
        Assert.Equal("secret-token", body.GetProperty("stream_auth_token").GetString());

        var call = h.Emulator.FindCall(result.CallControlId);
        Assert.NotNull(call);
        Assert.Equal((call.CallLegId, call.CallSessionId), (result.CallLegId, result.CallSessionId));
        Assert.Contains(':', result.CallControlId);
    }

    [Fact]
    public async Task Dial_WithoutStream_SendsNoStreamFields()
    {
        await using var h = await TelnyxHarness.StartAsync();

        await h.CallControl.DialAsync(Dial(), Ct);

        var body = Assert.Single(h.Emulator.Commands).Body;
        Assert.DoesNotContain(Keys(body), k => k.StartsWith("stream_", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(429, 2000)]
    [InlineData(500, 250)]
    public async Task Dial_FailsOnceThenSucceeds_WaitsRetryAfterOrBackoffAndRetriesWithSameCommandIdPlacingOneCall(int status, int waitMs)
    {
        var clock = new WatchedClock(unwatched: TelnyxCallControl.AttemptTimeout);
        await using var h = await TelnyxHarness.StartAsync(time: clock);
        h.Emulator.FailNextDials(1, status, retryAfterSeconds: 2);
        var request = Dial();

        var dialing = h.CallControl.DialAsync(request, Ct);

        Assert.Equal(TimeSpan.FromMilliseconds(waitMs), await clock.AdvanceToNextDelayAsync());
        var result = await dialing;
        var dials = h.Emulator.Commands.Where(c => c.Action == "dial").ToList();
        Assert.Equal([status, 200], dials.Select(d => d.StatusCode));
        Assert.All(dials, d => Assert.Equal(request.CommandId, d.CommandId));
        var call = Assert.Single(h.Emulator.Calls);
        Assert.Equal(result.CallControlId, call.CallControlId);
    }

    [Fact]
    public async Task Dial_RetryAfterLongerThanTheCap_WaitsFourSecondsEachTime()
    {
        var clock = new WatchedClock(unwatched: TelnyxCallControl.AttemptTimeout);
        await using var h = await TelnyxHarness.StartAsync(time: clock);
        h.Emulator.FailNextDials(2, 429, retryAfterSeconds: 60);

        var dialing = h.CallControl.DialAsync(Dial(), Ct);

        Assert.Equal(TimeSpan.FromSeconds(4), await clock.AdvanceToNextDelayAsync());
        Assert.Equal(TimeSpan.FromSeconds(4), await clock.AdvanceToNextDelayAsync());
        await dialing;
        Assert.Equal([429, 429, 200], h.Emulator.Commands.Select(c => c.StatusCode));
    }

    [Fact]
    public async Task Speak_FirstAttemptHangs_TimedOutOnTheInjectedClockAndRetriedWithSameCommandId()
    {
        var clock = new WatchedClock();
        var server = new HangsOnce();
        var options = new TelnyxOptions("KEY", "conn", "+13057864498", new Uri("https://api.example.test/v2"), new Uri("https://svc.example.test/"), null, true, false);
        using var http = new HttpClient(server) { BaseAddress = new Uri("https://api.example.test/v2/"), Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        var control = new TelnyxCallControl(http, options, new TelnyxCommandSettings("female", "Telnyx"), TestTelemetry.Instance, clock, NullLogger<TelnyxCallControl>.Instance);

        var speaking = control.SpeakAsync("v3:call", "Hello", "en", Ct);

        Assert.Equal(TelnyxCallControl.AttemptTimeout, await clock.AdvanceToNextDelayAsync());
        Assert.Equal(TimeSpan.FromMilliseconds(250), await clock.AdvanceToNextDelayAsync());
        await speaking;
        Assert.Equal(2, server.CommandIds.Count);
        Assert.Single(server.CommandIds.Distinct());
    }

    [Fact]
    public async Task Dial_ResponseLostAndRepeated_PlacesOneCall()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var request = Dial();

        var first = await h.CallControl.DialAsync(request, Ct);
        var second = await h.CallControl.DialAsync(request, Ct);

        Assert.Equal(first, second);
        Assert.Single(h.Emulator.Calls);
        Assert.Equal([false, true], h.Emulator.Commands.Select(c => c.Duplicate));
    }

    [Fact]
    public async Task Dial_RateLimitedThreeTimes_ThrowsRetryableTelnyxApiException()
    {
        await using var h = await TelnyxHarness.StartAsync();
        h.Emulator.FailNextDials(3, 429, retryAfterSeconds: 0);

        var e = await Assert.ThrowsAsync<TelnyxApiException>(() => h.CallControl.DialAsync(Dial(), Ct));

        Assert.Equal(HttpStatusCode.TooManyRequests, e.StatusCode);
        Assert.True(e.Retryable);
        Assert.Equal(new TelnyxError("10011", "Too many requests", "You have exceeded the maximum number of allowed requests."), Assert.Single(e.Errors));
        Assert.Equal(3, h.Emulator.Commands.Count);
        Assert.Empty(h.Emulator.Calls);
    }

    [Fact]
    public async Task Dial_WrongApiKey_ThrowsUnauthorizedWithoutRetry()
    {
        await using var h = await TelnyxHarness.StartAsync(apiKey: "KEY_wrong");

        var e = await Assert.ThrowsAsync<TelnyxApiException>(() => h.CallControl.DialAsync(Dial(), Ct));

        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
        Assert.False(e.Retryable);
        Assert.Equal("10009", Assert.Single(e.Errors).Code);
        Assert.Empty(h.Emulator.Calls);
    }

    [Fact]
    public async Task Dial_InvalidNumber_ThrowsValidationError()
    {
        await using var h = await TelnyxHarness.StartAsync();

        var e = await Assert.ThrowsAsync<TelnyxApiException>(() => h.CallControl.DialAsync(Dial() with { To = "0800 123" }, Ct));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.StatusCode);
        Assert.False(e.Retryable);
        Assert.Single(h.Emulator.Commands);
    }

    [Fact]
    public async Task Commands_OnAnsweredCall_SendDocumentedBodiesToEncodedPath()
    {
        await using var h = await TelnyxHarness.StartAsync(settings: new() { ["TELNYX_SPEAK_VOICE"] = "AWS.Polly.Lucia-Neural" });
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;

        await h.CallControl.SpeakAsync(id, "Hola, ¿qué tal?", "es", Ct);
        await h.CallControl.StartTranscriptionAsync(id, "es", Ct);
        await h.CallControl.StartPlaybackAsync(id, new Uri(h.Receiver.BaseUrl, "/audio/reply.wav"), Ct);
        await h.CallControl.StopTranscriptionAsync(id, Ct);
        await h.CallControl.TransferAsync(id, "+18005550100", Ct);

        var commands = h.Emulator.Commands.Skip(1).ToList();
        Assert.All(commands, c => Assert.Equal((id, 200), (c.CallControlId, c.StatusCode)));
        Assert.Equal(commands.Count, commands.Select(c => c.CommandId).Distinct().Count(c => !string.IsNullOrEmpty(c)));
        var speak = commands[0].Body;
        Assert.Equal(["command_id", "language", "payload", "payload_type", "voice"], Keys(speak));
        Assert.Equal(("Hola, ¿qué tal?", "AWS.Polly.Lucia-Neural", "es-ES", "text"),
            (speak.GetProperty("payload").GetString(), speak.GetProperty("voice").GetString(), speak.GetProperty("language").GetString(), speak.GetProperty("payload_type").GetString()));
        var transcription = commands[1].Body;
        Assert.Equal("Telnyx", transcription.GetProperty("transcription_engine").GetString());
        Assert.Equal("inbound", transcription.GetProperty("transcription_tracks").GetString());
        Assert.Equal("es", transcription.GetProperty("transcription_engine_config").GetProperty("language").GetString());
        Assert.Equal("Telnyx", transcription.GetProperty("transcription_engine_config").GetProperty("transcription_engine").GetString());
        var playback = commands[2].Body;
        Assert.Equal(("playback_start", "wav"), (commands[2].Action, playback.GetProperty("audio_type").GetString()));
        Assert.EndsWith("/audio/reply.wav", playback.GetProperty("audio_url").GetString(), StringComparison.Ordinal);
        Assert.Equal(["command_id"], Keys(commands[3].Body));
        Assert.Equal("+18005550100", commands[4].Body.GetProperty("to").GetString());
    }

    [Fact]
    public async Task StartStreaming_OnAnsweredCall_SendsExactBodyAndEmulatorOpensOneStream()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;
        await h.Emulator.WaitForWebhookAsync(w => w.EventType == "call.answered", Timeout, Ct);
        var stream = new MediaStreamRequest(new Uri("wss://calls.example.test/stream/media?call=call-42&token=t1"), "resume-token", "L16", 16000);

        await h.CallControl.StartStreamingAsync(id, stream, "resume-cmd-1", Ct);
        await h.CallControl.StartStreamingAsync(id, stream, "resume-cmd-1", Ct);

        var starts = h.Emulator.Commands.Where(c => c.Action == "streaming_start").ToList();
        Assert.Equal([(id, 200, false), (id, 200, true)], starts.Select(c => (c.CallControlId, c.StatusCode, c.Duplicate)));
        var body = starts[0].Body;
        Assert.Equal(
            ["command_id", "stream_auth_token", "stream_bidirectional_codec", "stream_bidirectional_mode", "stream_bidirectional_sampling_rate",
             "stream_codec", "stream_track", "stream_url"],
            Keys(body));
        Assert.Equal("wss://calls.example.test/stream/media?call=call-42&token=t1", body.GetProperty("stream_url").GetString());
        Assert.Equal("inbound_track", body.GetProperty("stream_track").GetString());
        Assert.Equal("L16", body.GetProperty("stream_codec").GetString());
        Assert.Equal("rtp", body.GetProperty("stream_bidirectional_mode").GetString());
        Assert.Equal("L16", body.GetProperty("stream_bidirectional_codec").GetString());
        Assert.Equal(16000, body.GetProperty("stream_bidirectional_sampling_rate").GetInt32());
        Assert.Equal("resume-token", body.GetProperty("stream_auth_token").GetString());
        Assert.Equal("resume-cmd-1", body.GetProperty("command_id").GetString());

        var call = h.Emulator.FindCall(id)!;
        Assert.Equal(1, call.StreamsStarted);
        Assert.Equal(
            ("wss://calls.example.test/stream/media?call=call-42&token=t1", "resume-token", "inbound_track", "L16", "rtp", "L16", 16000),
            (call.StreamUrl!.OriginalString, call.StreamAuthToken, call.StreamTrack, call.StreamCodec, call.StreamBidirectionalMode, call.StreamBidirectionalCodec, call.StreamSampleRate));
    }

    [Fact]
    public async Task StartStreaming_CallAlreadyEnded_Throws90018WithoutRetry()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;
        await h.CallControl.HangupAsync(id, Ct);
        var stream = new MediaStreamRequest(new Uri("wss://calls.example.test/stream/media"), "resume-token", "PCMU", 8000);

        var e = await Assert.ThrowsAsync<TelnyxApiException>(() => h.CallControl.StartStreamingAsync(id, stream, "resume-cmd-2", Ct));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.StatusCode);
        Assert.True(e.HasCode("90018"));
        Assert.Single(h.Emulator.Commands, c => c.Action == "streaming_start");
        Assert.Equal(0, h.Emulator.FindCall(id)!.StreamsStarted);
    }

    [Fact]
    public async Task Speak_RateLimited_WaitsForResetAndSucceedsOnce()
    {
        await using var h = await TelnyxHarness.StartAsync(new TelnyxEmulatorOptions { RequestsPerSecond = 1 });
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;

        await h.CallControl.SpeakAsync(id, "Hello", "en", Ct);

        var speaks = h.Emulator.Commands.Where(c => c.Action == "speak").ToList();
        Assert.Equal(200, speaks[^1].StatusCode);
        Assert.Single(speaks, s => s.StatusCode == 200);
        Assert.Single(speaks.Select(s => s.CommandId).Distinct());
        Assert.Equal("en-US", speaks[^1].Body.GetProperty("language").GetString());
        await h.Emulator.WaitForWebhookAsync(w => w.EventType == "call.speak.ended", Timeout, Ct);
    }

    [Fact]
    public async Task Hangup_CallAlreadyEnded_IsSuccess()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;

        await h.CallControl.HangupAsync(id, Ct);
        await h.CallControl.HangupAsync(id, Ct);

        var hangups = h.Emulator.Commands.Where(c => c.Action == "hangup").ToList();
        Assert.Equal([200, 422], hangups.Select(c => c.StatusCode));
        Assert.NotEqual(hangups[0].CommandId, hangups[1].CommandId);
    }

    [Fact]
    public async Task Speak_CallAlreadyEnded_Throws90018()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;
        await h.CallControl.HangupAsync(id, Ct);

        var e = await Assert.ThrowsAsync<TelnyxApiException>(() => h.CallControl.SpeakAsync(id, "Hello", "en", Ct));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.StatusCode);
        Assert.False(e.Retryable);
        Assert.Equal(new TelnyxError("90018", "Call has already ended", "This call is no longer active and can't receive commands."), Assert.Single(e.Errors));
    }

    [Fact]
    public async Task Transfer_WithoutDestination_ThrowsValidationErrorWithCodeAndTitle()
    {
        await using var h = await TelnyxHarness.StartAsync();
        var id = (await h.CallControl.DialAsync(Dial(), Ct)).CallControlId;

        var e = await Assert.ThrowsAsync<TelnyxApiException>(() => h.CallControl.TransferAsync(id, "", Ct));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.StatusCode);
        var error = Assert.Single(e.Errors);
        Assert.Equal(("10015", "Invalid value"), (error.Code, error.Title));
        Assert.Single(h.Emulator.Commands, c => c.Action == "transfer");
    }

    [Fact]
    public async Task Speak_UnknownCall_ThrowsNotFound()
    {
        await using var h = await TelnyxHarness.StartAsync();

        var e = await Assert.ThrowsAsync<TelnyxApiException>(() => h.CallControl.SpeakAsync("v3:no-such_call", "Hello", "en", Ct));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Equal("10005", Assert.Single(e.Errors).Code);
    }

    [Theory]
    [InlineData("es", "es-ES")]
    [InlineData("en", "en-US")]
    [InlineData("fr-FR", "fr-FR")]
    public void SpeakLanguage_ShortCode_MapsToLocale(string language, string expected)
    {
        Assert.Equal(expected, TelnyxCallControl.SpeakLanguage(language));
    }

    /// <summary>Never answers the first request (until it is cancelled); answers 200 after that. Records each command_id.</summary>
    private sealed class HangsOnce : HttpMessageHandler
    {
        private readonly ConcurrentQueue<string> _commandIds = new();

        public IReadOnlyList<string> CommandIds => [.. _commandIds];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using var body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken));
            _commandIds.Enqueue(body.RootElement.GetProperty("command_id").GetString()!);
            if (_commandIds.Count == 1)
            {
                await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            }

            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
        }
    }
}
