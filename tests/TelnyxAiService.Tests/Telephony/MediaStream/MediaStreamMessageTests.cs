using System.Text;
using TelnyxAiService.Telephony.Telnyx.MediaStream;

namespace TelnyxAiService.Tests.Telephony.MediaStream;

/// <summary>The media-stream dialect against frames recorded from (or built from the docs of) Telnyx, and hostile ones.</summary>
public sealed class MediaStreamMessageTests
{
    [Fact]
    public void TryParse_StartFixture_ReadsCallAndFormat()
    {
        var start = Assert.IsType<StreamStart>(Parse(TelnyxFixtures.Bytes("ws_start.docs.json")));

        Assert.Equal("32DE0DEA-53CB-4B21-89A4-9E1819C043BC", start.StreamId);
        Assert.Equal("v2:T02llQxIyaRkhfRKxgAP8nY511EhFLizdvdUKJiSw8d6A9BborherQ", start.CallControlId);
        Assert.Equal("aGF2ZSBhIG5pY2UgZGF5ID1d", start.ClientState);
        Assert.Equal("PCMU", start.Encoding);
        Assert.Equal(8000, start.SampleRate);
    }

    [Fact]
    public void TryParse_MediaFixture_ReadsNumbersSentAsStrings()
    {
        var media = Assert.IsType<StreamMedia>(Parse(TelnyxFixtures.Bytes("ws_media_telnyx_to_client.constructed.json")));

        Assert.Equal(Convert.FromBase64String("fn5+fn5+fn5+fn5+fn5+fn5+fn5+fn5+fn5+fn5+"), media.Payload);
        Assert.Equal("inbound", media.Track);
        Assert.Equal(4, media.SequenceNumber);
        Assert.Equal(2, media.Chunk);
        Assert.Equal(5, media.Timestamp);
    }

    [Fact]
    public void TryParse_OtherFixtures_ReadTheirFields()
    {
        Assert.IsType<StreamConnected>(Parse(TelnyxFixtures.Bytes("ws_connected.docs.json")));
        Assert.Equal(new StreamMark("some_mark_name"), Parse(TelnyxFixtures.Bytes("ws_mark_telnyx_to_client.docs.json")));
        Assert.Equal(new StreamDtmf("1"), Parse(TelnyxFixtures.Bytes("ws_dtmf.docs.json")));
        Assert.IsType<StreamStop>(Parse(TelnyxFixtures.Bytes("ws_stop.docs.json")));
        Assert.Equal(new StreamError(100003, "malformed_frame", "Received frame was not formed correctly"), Parse(TelnyxFixtures.Bytes("ws_error.constructed_from_docs_schema.json")));
    }

    [Fact]
    public void TryParse_NumbersAsJsonNumbers_Accepted()
    {
        var media = Assert.IsType<StreamMedia>(Parse("""{"event":"media","sequence_number":7,"media":{"chunk":3,"timestamp":60,"payload":""}}"""));

        Assert.Equal((7L, 3L, 60L), (media.SequenceNumber!.Value, media.Chunk!.Value, media.Timestamp!.Value));
        Assert.Equal("inbound", media.Track);
    }

    [Fact]
    public void TryParse_UnknownFieldsAndEvents_Ignored()
    {
        Assert.Equal(new StreamDtmf("5"), Parse("""{"event":"dtmf","extra":{"deep":[1,2,{"x":null}]},"dtmf":{"digit":"5","duration":"x"}}"""));
        Assert.Equal(new StreamUnknown("no_such_event"), Parse("""{"event":"no_such_event","whatever":[true]}"""));
    }

    [Theory]
    [InlineData("""{"event":"media","sequence_number":"four","media":{"payload":""}}""", "$.sequence_number")]
    [InlineData("""{"event":"media","media":{"chunk":{},"payload":""}}""", "$.media.chunk")]
    [InlineData("""{"event":"media","media":{"timestamp":"1.5","payload":""}}""", "$.media.timestamp")]
    [InlineData("""{"event":"media","media":{"payload":"@@not base64@@"}}""", "$.media.payload")]
    [InlineData("""{"event":"media","media":{"payload":42}}""", "$.media.payload")]
    [InlineData("""{"event":"media","media":"audio"}""", "$.media")]
    [InlineData("""{"event":"start","start":{"call_control_id":"v3:x","media_format":{"encoding":"PCMU","sample_rate":"fast"}}}""", "$.start.media_format.sample_rate")]
    [InlineData("""{"event":"dtmf","dtmf":{"digit":1}}""", "$.dtmf.digit")]
    [InlineData("""{"event":"mark","mark":{"name":["a"]}}""", "$.mark.name")]
    [InlineData("""{"event":"error","payload":{"code":"big","title":"t"}}""", "$.payload.code")]
    [InlineData("""{"event":"mark","mark":{"name":"\ud800"}}""", "$.mark.name")]
    [InlineData("""{"event":"dtmf","dtmf":{"digit":"\udc00\ud800"}}""", "$.dtmf.digit")]
    [InlineData("""{"event":7}""", "$.event")]
    public void TryParse_KnownFieldOfWrongType_FailsNamingTheField(string json, string field)
    {
        Assert.False(MediaStreamMessage.TryParse(Encoding.UTF8.GetBytes(json), out var message, out var error));

        Assert.Null(message);
        Assert.StartsWith(field, error);
    }

    [Fact]
    public void TryParse_InvalidUtf8_FailsNamingTheField()
    {
        byte[] json = [.. "{\"event\":\"mark\",\"mark\":{\"name\":\""u8, 0xC3, 0x28, 0xFF, .. "\"}}"u8];

        Assert.False(MediaStreamMessage.TryParse(json, out _, out var error));
        Assert.StartsWith("$.mark.name", error);
    }

    [Theory]
    [InlineData("""{"event":"start","start":{"media_format":{"encoding":"PCMU"}}}""", "start.call_control_id missing")]
    [InlineData("""{"event":"start","start":{"call_control_id":"v3:x"}}""", "start.media_format.encoding missing")]
    [InlineData("""{"event":"media","sequence_number":"4"}""", "media.payload missing")]
    [InlineData("""{"event":"dtmf","dtmf":{}}""", "dtmf.digit missing")]
    [InlineData("""{"event":"mark"}""", "mark.name missing")]
    [InlineData("""{"stream_id":"x"}""", "event missing")]
    [InlineData("null", "event missing")]
    public void TryParse_RequiredFieldMissing_FailsNamingTheField(string json, string expected)
    {
        Assert.False(MediaStreamMessage.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("this is not JSON at all {")]
    [InlineData("""["an","array"]""")]
    [InlineData("")]
    [InlineData("{\"event\":\"media\",\"media\":{\"payload\":\"")]
    public void TryParse_NotAJsonObject_Fails(string json)
    {
        Assert.False(MediaStreamMessage.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void TryParse_DeepNesting_FailsWithoutThrowing()
    {
        var json = """{"event":"x","a":""" + new string('[', 10_000) + new string(']', 10_000) + "}";

        Assert.False(MediaStreamMessage.TryParse(Encoding.UTF8.GetBytes(json), out _, out _));
    }

    private static MediaStreamMessage Parse(string json) => Parse(Encoding.UTF8.GetBytes(json));

    private static MediaStreamMessage Parse(byte[] json)
    {
        Assert.True(MediaStreamMessage.TryParse(json, out var message, out var error), error);
        return message;
    }
}
