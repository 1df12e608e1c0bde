using System.Text;
using System.Text.RegularExpressions;
using TelnyxAiService.Telephony.Telnyx;

namespace TelnyxAiService.Tests.Telephony;

public sealed class TelnyxWebhookEventTests
{
    private const string RecordedCallControlId = "v3:2EC-70CTEjlUq3tDM0CxKXIt5-5N4iP4wo7_-PfH-qub97Sk4EqO5w";

    public static TheoryData<string> WebhookFixtures() =>
        [.. Directory.GetFiles(TelnyxFixtures.Directory, "webhook_*.json").Select(Path.GetFileName).OfType<string>().Order()];

    private static TelnyxWebhookEvent Parse(string fixture)
    {
        Assert.True(TelnyxWebhookEvent.TryParse(TelnyxFixtures.Bytes(fixture), out var evt, out var error), error);
        return evt!;
    }

    [Theory]
    [MemberData(nameof(WebhookFixtures))]
    public void TryParse_EveryWebhookFixture_ReadsIdTypeAndCall(string fixture)
    {
        var evt = Parse(fixture);

        var expectedType = Regex.Match(fixture, @"^webhook_(?<type>.+?)\.(recorded|constructed|apiref|docs|outbound)\.").Groups["type"].Value;
        Assert.Equal(expectedType, evt.EventType);
        Assert.False(string.IsNullOrEmpty(evt.Id));
        Assert.NotNull(evt.OccurredAt);
        Assert.False(string.IsNullOrEmpty(evt.CallControlId));
    }

    [Fact]
    public void TryParse_RecordedAnswered_ReadsCommonFieldsAndMeta()
    {
        var evt = Parse("webhook_call.answered.recorded.json");

        Assert.Equal("6513c729-f759-47ad-b345-606732b23608", evt.Id);
        Assert.Equal(new DateTimeOffset(2025, 11, 23, 3, 30, 0, TimeSpan.Zero).AddTicks(9963060), evt.OccurredAt);
        Assert.Equal(1, evt.Attempt);
        Assert.Equal(RecordedCallControlId, evt.CallControlId);
        Assert.Equal("b0e6224c-c81c-11f0-afbb-02420aef93a0", evt.CallLegId);
        Assert.Equal("b0e6141e-c81c-11f0-abac-02420aef93a0", evt.CallSessionId);
        Assert.Null(evt.ClientState);
        Assert.Equal("+18124040851", evt.From);
    }

    [Fact]
    public void TryParse_Transcription_ReadsTranscriptionData()
    {
        var evt = Parse("webhook_call.transcription.apiref.json");

        Assert.Equal("hello this is a test speech", evt.Transcript);
        Assert.True(evt.IsFinal);
        Assert.Equal(0.977219, evt.Confidence);
        Assert.Null(evt.Attempt);
    }

    [Fact]
    public void TryParse_Dtmf_ReadsDigitAndDecodesClientState()
    {
        var evt = Parse("webhook_call.dtmf.received.constructed.json");

        Assert.Equal("5", evt.Digit);
        Assert.Equal("""{"callId":"123"}""", evt.ClientState);
    }

    [Theory]
    [InlineData("webhook_call.playback.ended.constructed.json", "completed")]
    [InlineData("webhook_call.gather.ended.constructed.json", "valid")]
    [InlineData("webhook_call.playback.started.constructed.json", null)]
    public void TryParse_StatusEvents_ReadStatus(string fixture, string? status)
    {
        Assert.Equal(status, Parse(fixture).Status);
    }

    [Fact]
    public void TryParse_OutboundInitiated_ReadsDirection()
    {
        Assert.Equal("outgoing", Parse("webhook_call.initiated.outbound.constructed.json").Direction);
        Assert.Equal("incoming", Parse("webhook_call.initiated.recorded.json").Direction);
    }

    [Theory]
    [InlineData("webhook_streaming.started.docs.json", "wss://yourdomain.com")]
    [InlineData("webhook_streaming.stopped.apiref.json", "wss://www.example.com/websocket")]
    public void TryParse_Streaming_ReadsStreamUrl(string fixture, string url)
    {
        Assert.Equal(url, Parse(fixture).StreamUrl);
    }

    [Fact]
    public void TryParse_SignatureVectorBody_IsTheRecordedAnswered()
    {
        Assert.True(TelnyxWebhookEvent.TryParse(TelnyxFixtures.Bytes("signature_test_vector.body.bin"), out var evt, out _));
        Assert.Equal("call.answered", evt!.EventType);
    }

    [Fact]
    public void TryParse_HangupAndStreamingFailed_ReadTypedFields()
    {
        var hangup = Encoding.UTF8.GetBytes("""
            {"data":{"event_type":"call.hangup","id":"e1","occurred_at":"2025-11-23T03:31:00.000000Z","record_type":"event",
             "payload":{"call_control_id":"v3:x","client_state":"aGVsbG8=","hangup_cause":"normal_clearing","hangup_source":"callee","sip_hangup_cause":"200"}},
             "meta":{"attempt":2,"delivered_to":"https://example.test/webhook/telnyx"}}
            """);
        var failed = Encoding.UTF8.GetBytes("""
            {"data":{"event_type":"streaming.failed","id":"e2","payload":{"call_control_id":"v3:x","failure_reason":"connection_failed","stream_id":"s"}}}
            """);

        Assert.True(TelnyxWebhookEvent.TryParse(hangup, out var h, out _));
        Assert.Equal(("normal_clearing", "callee", "200", "hello", 2), (h!.HangupCause, h.HangupSource, h.SipHangupCause, h.ClientState, h.Attempt));
        Assert.True(TelnyxWebhookEvent.TryParse(failed, out var f, out _));
        Assert.Equal("connection_failed", f!.FailureReason);
        Assert.Null(f.OccurredAt);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("""{"meta":{}}""")]
    [InlineData("""{"data":{"event_type":"call.answered","payload":{}}}""")]
    [InlineData("""{"data":{"id":"x","payload":{}}}""")]
    [InlineData("""{"data":{"id":"","event_type":"call.answered"}}""")]
    public void TryParse_MalformedOrIncomplete_ReturnsFalseWithError(string body)
    {
        Assert.False(TelnyxWebhookEvent.TryParse(Encoding.UTF8.GetBytes(body), out var evt, out var error));
        Assert.Null(evt);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("\"%%%not-base64\"")]
    [InlineData("\"/w==\"")]
    [InlineData("null")]
    public void TryParse_UnreadableClientState_IsNull(string clientState)
    {
        var body = Encoding.UTF8.GetBytes("""{"data":{"id":"x","event_type":"call.answered","payload":{"client_state":""" + clientState + "}}}");

        Assert.True(TelnyxWebhookEvent.TryParse(body, out var evt, out _));
        Assert.Null(evt!.ClientState);
    }

    [Theory]
    [InlineData("""{"data":"call.answered"}""", "data")]
    [InlineData("""{"data":{"id":"x","event_type":42}}""", "data.event_type")]
    [InlineData("""{"data":{"id":42,"event_type":"call.answered"}}""", "data.id")]
    [InlineData("""{"data":{"id":"x","event_type":"call.answered","payload":"call"}}""", "data.payload")]
    [InlineData("""{"data":{"id":"x","event_type":"call.answered","occurred_at":"yesterday"}}""", "data.occurred_at")]
    [InlineData("""{"data":{"id":"x","event_type":"call.answered","payload":{"client_state":42}}}""", "data.payload.client_state")]
    [InlineData("""{"data":{"id":"x","event_type":"call.hangup","payload":{"sip_hangup_cause":200}}}""", "data.payload.sip_hangup_cause")]
    [InlineData("""{"data":{"id":"x","event_type":"call.transcription","payload":{"transcription_data":{"is_final":"yes"}}}}""", "data.payload.transcription_data.is_final")]
    [InlineData("""{"data":{"id":"x","event_type":"call.transcription","payload":{"transcription_data":"hello"}}}""", "data.payload.transcription_data")]
    [InlineData("""{"data":{"id":"x","event_type":"call.answered"},"meta":{"attempt":"1"}}""", "meta.attempt")]
    [InlineData("""{"data":{"id":"x","event_type":"call.answered"},"meta":[]}""", "meta")]
    [InlineData("""{"data":{"id":"x","event_type":"\ud800"}}""", "data.event_type")]
    [InlineData("""{"data":{"id":"x","event_type":"call.dtmf.received","payload":{"digit":"\udc00"}}}""", "data.payload.digit")]
    [InlineData("""{"data":{"id":"x","event_type":"call.answered","payload":{"from":"+1\ud800x"}}}""", "data.payload.from")]
    [InlineData("""{"data":{"id":"x","id":"y","event_type":"call.answered"}}""", "data.id")]
    [InlineData("""{"data":{"id":"x","event_type":"call.answered","payload":{"<script>":[}}}""", "data.payload")]
    public void TryParse_WrongTypeOrBadText_FailsNamingTheField(string body, string field)
    {
        Assert.False(TelnyxWebhookEvent.TryParse(Encoding.UTF8.GetBytes(body), out var evt, out var error));
        Assert.Null(evt);
        Assert.Equal($"{field} is malformed", error);
    }

    [Theory]
    [InlineData("""{"data":{"id":"x","event_type":"call.BAD"}}""", "data.event_type")]
    [InlineData("""{"data":{"id":"x","event_type":"call.answered","payload":{"call_control_id":"v3:BAD"}}}""", "data.payload.call_control_id")]
    [InlineData("""{"data":{"id":"x","event_type":"call.answered","payload":{"codec":"BAD"}}}""", "body")]
    public void TryParse_InvalidUtf8_FailsNamingTheField(string body, string field)
    {
        Assert.False(TelnyxWebhookEvent.TryParse(InvalidUtf8At("BAD", body), out _, out var error));
        Assert.StartsWith($"{field} is ", error, StringComparison.Ordinal);
    }

    /// <summary>The body with <paramref name="marker"/> replaced by the bytes FF BF, which are not UTF-8.</summary>
    private static byte[] InvalidUtf8At(string marker, string json)
    {
        var body = Encoding.UTF8.GetBytes(json.Replace(marker, "\u00ff", StringComparison.Ordinal));
        body[Array.IndexOf(body, (byte)0xC3)] = 0xFF;
        return body;
    }

    [Fact]
    public void TryParse_UnknownFieldsAndEventType_Accepted()
    {
        var body = Encoding.UTF8.GetBytes("""
            {"data":{"event_type":"call.conversation.ended","id":"e9","record_type":"event","extra":{"a":[1,2]},
             "payload":{"call_control_id":"v3:x","call_quality_stats":{"inbound":{"mos":"4.5"}},"tags":["a"],"sampling_rate":8000}},
             "meta":{"attempt":1,"delivered_to":"https://example.test/webhook/telnyx","region":"eu"},"other":null}
            """);

        Assert.True(TelnyxWebhookEvent.TryParse(body, out var evt, out var error), error);
        Assert.Equal(("call.conversation.ended", "v3:x"), (evt.EventType, evt.CallControlId));
    }
}
