using System.Text;
using System.Text.Json;
using TelnyxAiService.Speech;
using TelnyxAiService.Speech.Deepgram;

namespace TelnyxAiService.Tests.Speech;

public sealed class DeepgramMessagesTests
{
    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "deepgram", name));

    [Fact]
    public void Deserialize_RecordedFinalResults_ReadsTimingAndWords()
    {
        var results = Assert.IsType<DeepgramResults>(JsonSerializer.Deserialize(Fixture("results_is_final_speech_final.recorded.json"), DeepgramJson.Default.DeepgramMessage));

        Assert.Equal((true, true, 0.0, 2.3), (results.IsFinal, results.SpeechFinal, results.Start, results.Duration));
        var alternative = Assert.Single(results.Channel.Alternatives);
        Assert.Equal("Paris at a moment's notice.", alternative.Transcript);
        Assert.Equal(["paris", "at", "a", "moment's", "notice"], alternative.Words!.Select(w => w.Word));
        Assert.Equal(("notice.", 1.1999999, 1.5999999), (alternative.Words![^1].PunctuatedWord, alternative.Words[^1].Start, alternative.Words[^1].End));
    }

    [Fact]
    public void Deserialize_RecordedOtherMessages_ReadTheirTypes()
    {
        Assert.Equal(9.54, Assert.IsType<DeepgramSpeechStarted>(JsonSerializer.Deserialize(Fixture("speech_started.constructed.json"), DeepgramJson.Default.DeepgramMessage)).Timestamp);
        Assert.Equal("01a07aad-cb1e-78c3-80ef-181d08b56576", Assert.IsType<DeepgramMetadata>(JsonSerializer.Deserialize(Fixture("metadata.constructed.json"), DeepgramJson.Default.DeepgramMessage)).RequestId);
    }

    [Theory]
    [InlineData("""{"type":"Warning","description":"something new"}""")]
    [InlineData("""{"description":"no type"}""")]
    [InlineData("""{"type":42}""")]
    [InlineData("""{"is_final":false,"type":"Results","channel":{"alternatives":[]}}""")]
    public void Parse_UnknownTypeOrNoWords_YieldsNothing(string message)
    {
        Assert.Null(DeepgramMessages.Parse(Encoding.UTF8.GetBytes(message)));
    }

    [Fact]
    public void Parse_TypeAfterOtherFields_StillRead()
    {
        Assert.Equal(new TranscriptUpdate("hi", true, false), DeepgramMessages.Parse("""{"is_final":true,"channel":{"alternatives":[{"transcript":"hi"}]},"type":"Results"}"""u8.ToArray()));
    }

    [Theory]
    [InlineData("""{"type":"Results","is_final":"true","channel":{"alternatives":[]}}""", "$.is_final")]
    [InlineData("""{"type":"Results","is_final":true,"channel":"alternatives"}""", "$.channel")]
    [InlineData("""{"type":"Results","is_final":true,"channel":{"alternatives":{}}}""", "$.channel.alternatives")]
    [InlineData("""{"type":"Results","is_final":true,"channel":{"alternatives":[{"transcript":7}]}}""", "$.channel.alternatives[0].transcript")]
    [InlineData("""{"type":"Results","is_final":true,"channel":{"alternatives":[{"transcript":null}]}}""", "$.channel.alternatives[0].transcript")]
    [InlineData("""{"type":"Results","is_final":true,"channel":{"alternatives":[{"transcript":"\ud800"}]}}""", "$.channel.alternatives[0].transcript")]
    [InlineData("""{"type":"Results","is_final":true,"speech_final":1,"channel":{"alternatives":[]}}""", "$.speech_final")]
    public void Parse_WrongTypeOrBadText_ThrowsNamingTheField(string message, string path)
    {
        var e = Assert.Throws<JsonException>(() => DeepgramMessages.Parse(Encoding.UTF8.GetBytes(message)));

        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void Parse_InvalidUtf8InTranscript_ThrowsNamingTheField()
    {
        var message = Encoding.UTF8.GetBytes("{\"type\":\"Results\",\"is_final\":true,\"channel\":{\"alternatives\":[{\"transcript\":\"\u00ff\"}]}}");
        message[Array.IndexOf(message, (byte)0xC3)] = 0xFF;

        var e = Assert.Throws<JsonException>(() => DeepgramMessages.Parse(message));

        Assert.Equal("$.channel.alternatives[0].transcript", e.Path);
    }

    [Theory]
    [InlineData("""{"type":"Results","channel":{"alternatives":[]}}""")]
    [InlineData("""{"type":"Results","is_final":false}""")]
    [InlineData("""{"type":"Results","is_final":false,"channel":{}}""")]
    [InlineData("not json")]
    public void Parse_MissingRequiredFieldOrNotJson_Throws(string message)
    {
        Assert.Throws<JsonException>(() => DeepgramMessages.Parse(Encoding.UTF8.GetBytes(message)));
    }

    [Fact]
    public void ControlFrames_AreTheDocumentedJson()
    {
        Assert.Equal("""{"type":"KeepAlive"}""", Encoding.UTF8.GetString(DeepgramMessages.KeepAlive.Span));
        Assert.Equal("""{"type":"Finalize"}""", Encoding.UTF8.GetString(DeepgramMessages.Finalize.Span));
        Assert.Equal("""{"type":"CloseStream"}""", Encoding.UTF8.GetString(DeepgramMessages.CloseStream.Span));
    }
}
