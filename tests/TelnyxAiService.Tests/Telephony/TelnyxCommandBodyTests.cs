using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using TelnyxAiService.Providers;
using TelnyxAiService.Telephony;
using TelnyxAiService.Telephony.Telnyx;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Telephony;

/// <summary>The exact JSON each Call Control command sends, and how answers and error bodies are read.</summary>
public sealed partial class TelnyxCommandBodyTests
{
    private const string CallControlId = "v3:2EC-70CT_x";
    private static readonly MediaStreamRequest Stream = new(new Uri("wss://calls.example.test/stream/media?call=c1&token=t0k"), "secret", "PCMU", 8000);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Dial_WithAndWithoutStream_SendsExactJson()
    {
        var (control, sent) = Client("""{"data":{"call_control_id":"v3:a","call_leg_id":"leg","call_session_id":"session","is_alive":false,"record_type":"call"}}""");

        var result = await control.DialAsync(new DialRequest("+18124040851", "call-42", "cmd-1", Stream), Ct);
        await control.DialAsync(new DialRequest("+18124040851", "call-42", "cmd-2", null), Ct);

        Assert.Equal(new DialResult("v3:a", "leg", "session"), result);
        Assert.Equal(
            [
                ("calls", """{"connection_id":"conn","to":"\u002B18124040851","from":"\u002B13057864498","webhook_url":"https://svc.example.test/webhook/telnyx","client_state":"Y2FsbC00Mg==","command_id":"cmd-1","timeout_secs":30,"stream_url":"wss://calls.example.test/stream/media?call=c1\u0026token=t0k","stream_track":"inbound_track","stream_codec":"PCMU","stream_bidirectional_mode":"rtp","stream_bidirectional_codec":"PCMU","stream_bidirectional_sampling_rate":8000,"stream_auth_token":"secret"}"""),
                ("calls", """{"connection_id":"conn","to":"\u002B18124040851","from":"\u002B13057864498","webhook_url":"https://svc.example.test/webhook/telnyx","client_state":"Y2FsbC00Mg==","command_id":"cmd-2","timeout_secs":30}"""),
            ],
            sent);
    }

    [Fact]
    public async Task Actions_SendExactJson()
    {
        var (control, sent) = Client("""{"data":{"result":"ok"}}""");

        await control.AnswerAsync(CallControlId, "call-42", Stream, Ct);
        await control.AnswerAsync(CallControlId, "call-42", null, Ct);
        await control.StartStreamingAsync(CallControlId, Stream, "resume-1", Ct);
        await control.SpeakAsync(CallControlId, "¿Qué tal? <b>", "es", Ct);
        await control.StartTranscriptionAsync(CallControlId, "es", Ct);
        await control.StopTranscriptionAsync(CallControlId, Ct);
        await control.StartPlaybackAsync(CallControlId, new Uri("https://svc.example.test/audio/reply.mp3"), Ct);
        await control.TransferAsync(CallControlId, "+18005550100", Ct);
        await control.HangupAsync(CallControlId, Ct);

        var path = "calls/v3%3A2EC-70CT_x/actions/";
        Assert.Equal(
            [
                (path + "answer", """{"client_state":"Y2FsbC00Mg==","command_id":"call-42","stream_url":"wss://calls.example.test/stream/media?call=c1\u0026token=t0k","stream_track":"inbound_track","stream_codec":"PCMU","stream_bidirectional_mode":"rtp","stream_bidirectional_codec":"PCMU"}"""),
                (path + "answer", """{"client_state":"Y2FsbC00Mg==","command_id":"call-42"}"""),
                (path + "streaming_start", """{"stream_url":"wss://calls.example.test/stream/media?call=c1\u0026token=t0k","stream_track":"inbound_track","stream_codec":"PCMU","stream_bidirectional_mode":"rtp","stream_bidirectional_codec":"PCMU","stream_bidirectional_sampling_rate":8000,"stream_auth_token":"secret","command_id":"resume-1"}"""),
                (path + "speak", """{"payload":"\u00BFQu\u00E9 tal? \u003Cb\u003E","voice":"female","language":"es-ES","payload_type":"text","command_id":"<id>"}"""),
                (path + "transcription_start", """{"transcription_engine":"Telnyx","transcription_engine_config":{"transcription_engine":"Telnyx","language":"es"},"transcription_tracks":"inbound","command_id":"<id>"}"""),
                (path + "transcription_stop", """{"command_id":"<id>"}"""),
                (path + "playback_start", """{"audio_url":"https://svc.example.test/audio/reply.mp3","audio_type":"mp3","command_id":"<id>"}"""),
                (path + "transfer", """{"to":"\u002B18005550100","command_id":"<id>"}"""),
                (path + "hangup", """{"command_id":"<id>"}"""),
            ],
            sent.Select(s => (s.Path, CommandIdPattern().Replace(s.Body, "<id>"))));
    }

    [Theory]
    [InlineData("""{"data":{"is_alive":true}}""", true)]
    [InlineData("""{"data":{"is_alive":false,"call_control_id":"v3:a"}}""", false)]
    [InlineData("""{"data":{}}""", false)]
    [InlineData("", false)]
    public async Task GetCall_ReadsIsAlive(string response, bool alive)
    {
        var (control, _) = Client(response);

        Assert.Equal(alive, (await control.GetCallAsync(CallControlId, Ct)).IsAlive);
    }

    [Theory]
    [InlineData("""{"data":{"call_control_id":7,"call_leg_id":"leg","call_session_id":"session"}}""", "dial response is malformed")]
    [InlineData("""{"data":"\ud800"}""", "dial response is malformed")]
    [InlineData("""{"data":{"call_leg_id":"leg","call_session_id":"session"}}""", "dial response has no data.call_control_id")]
    public async Task Dial_MalformedResponse_ThrowsWithoutUpstreamText(string response, string message)
    {
        var (control, _) = Client(response);

        var e = await Assert.ThrowsAsync<ProviderException>(() => control.DialAsync(new DialRequest("+18124040851", "call-42", "cmd-1", null), Ct));

        Assert.Equal($"telnyx: {message}", e.Message);
        Assert.False(e.Retryable);
    }

    [Theory]
    [InlineData("rest_error_422_call_already_ended.json", "90018", "Call has already ended", "This call is no longer active and can't receive commands.")]
    [InlineData("rest_error_429_rate_limited.docs.json", "10011", "Too many requests", "You have exceeded the maximum number of allowed requests.")]
    public void ParseErrors_RecordedBodies_ReadCodeTitleDetail(string fixture, string code, string title, string detail)
    {
        Assert.Equal(new TelnyxError(code, title, detail), Assert.Single(TelnyxApiException.ParseErrors(TelnyxFixtures.Bytes(fixture))));
    }

    [Theory]
    [InlineData("""{"errors":[{"code":90018,"title":"Call has already ended"}]}""")]
    [InlineData("""{"errors":{"code":"90018"}}""")]
    [InlineData("""{"errors":[{"code":"90018","title":"\ud800"}]}""")]
    [InlineData("""{"errors":"Call has already ended"}""")]
    [InlineData("<html>502 Bad Gateway</html>")]
    [InlineData("")]
    public void ParseErrors_WrongTypedOrUnreadable_IsEmpty(string body)
    {
        Assert.Empty(TelnyxApiException.ParseErrors(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void ParseErrors_InvalidUtf8_IsEmpty()
    {
        var body = Encoding.UTF8.GetBytes("{\"errors\":[{\"code\":\"90018\",\"title\":\"\u00ff\"}]}");
        body[Array.IndexOf(body, (byte)0xC3)] = 0xFF;

        Assert.Empty(TelnyxApiException.ParseErrors(body));
    }

    [Fact]
    public void Message_CarriesCodeAndTitleOnly()
    {
        var errors = TelnyxApiException.ParseErrors("""{"errors":[{"code":"10015","title":"Invalid\nvalue","detail":"to: db01.internal:5432 said no"}]}"""u8);

        var e = new TelnyxApiException(HttpStatusCode.UnprocessableEntity, errors, retryable: false);

        Assert.Equal("telnyx: HTTP 422: 10015 Invalid\\u000avalue", e.Message);
    }

    [Fact]
    public async Task Command_TelnyxUnreachable_MessageNamesNoHost()
    {
        var options = new TelnyxOptions("KEY", "conn", "+13057864498", new Uri("http://127.0.0.1:1/"), new Uri("https://svc.example.test/"), null, true, false);
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:1/") };
        var control = new TelnyxCallControl(http, options, new TelnyxCommandSettings("female", "Telnyx"), TestTelemetry.Instance, TimeProvider.System, NullLogger<TelnyxCallControl>.Instance);

        var e = await Assert.ThrowsAsync<ProviderException>(() => control.SpeakAsync(CallControlId, "Hello", "en", Ct));

        Assert.Equal("telnyx: speak failed: Telnyx could not be reached", e.Message);
        Assert.True(e.Retryable);
    }

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex CommandIdPattern();

    private static (TelnyxCallControl Control, List<(string Path, string Body)> Sent) Client(string response)
    {
        var sent = new List<(string Path, string Body)>();
        var options = new TelnyxOptions("KEY", "conn", "+13057864498", new Uri("https://api.example.test/v2"), new Uri("https://svc.example.test/"), null, true, false);
        var http = new HttpClient(new Recorder(sent, response)) { BaseAddress = new Uri("https://api.example.test/v2/") };
        return (new TelnyxCallControl(http, options, new TelnyxCommandSettings("female", "Telnyx"), TestTelemetry.Instance, TimeProvider.System, NullLogger<TelnyxCallControl>.Instance), sent);
    }

    private sealed class Recorder(List<(string Path, string Body)> sent, string response) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is { } content)
            {
                Assert.Equal("application/json; charset=utf-8", content.Headers.ContentType!.ToString());
                sent.Add((request.RequestUri!.AbsolutePath["/v2/".Length..], await content.ReadAsStringAsync(cancellationToken)));
            }

            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(response) };
        }
    }
}
