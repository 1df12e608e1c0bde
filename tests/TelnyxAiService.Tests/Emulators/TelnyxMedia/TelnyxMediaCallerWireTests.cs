using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.Telnyx.Media;

namespace TelnyxAiService.Tests.Emulators.TelnyxMedia;

public sealed class TelnyxMediaCallerWireTests
{
    [Fact]
    public async Task Caller_ScriptedCall_SendsFramesShapedLikeTheDocs()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeMediaServer.StartAsync(async (agent, token) =>
        {
            await agent.NextAsync("start", token);
            await agent.SendMarkAsync("greeting-done", token);
        });
        var settings = new MediaCallSettings
        {
            StreamUrl = server.StreamUrl(),
            CallControlId = "v2:T02llQxIyaRkhfRKxgAP8nY511EhFLizdvdUKJiSw8d6A9BborherQ",
            CallSessionId = "ff55a038-6f5d-11ef-9692-02420aeffb1f",
            ClientState = "aGF2ZSBhIG5pY2UgZGF5ID1d",
            From = "+13122010094",
            To = "+13122123456",
        };

        var recording = await TelnyxMediaCaller.RunAsync(settings, new CallerScript().Say("hello there").SendDtmf("1").HangUp(), ct);
        await server.Finished;
        var frames = (await server.Connection).Received;

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        Assert.Equal(["connected", "start"], frames.Take(2).Select(f => f.Event));
        Assert.Equal("stop", frames[^1].Event);
        AssertShape(Fixture("ws_connected.docs.json"), frames[0].Json);
        AssertShape(Fixture("ws_start.docs.json"), frames[1].Json, "start.custom_parameters");
        AssertShape(Fixture("ws_media_telnyx_to_client.constructed.json"), frames.First(f => f.Event == "media").Json);
        AssertShape(Fixture("ws_dtmf.docs.json"), frames.Single(f => f.Event == "dtmf").Json);
        AssertShape(Fixture("ws_mark_telnyx_to_client.docs.json"), frames.Single(f => f.Event == "mark").Json);
        AssertShape(Fixture("ws_stop.docs.json"), frames[^1].Json);

        var start = frames[1].Json.GetProperty("start");
        Assert.Equal(settings.CallControlId, start.GetProperty("call_control_id").GetString());
        Assert.Equal(settings.CallSessionId, start.GetProperty("call_session_id").GetString());
        Assert.Equal(settings.ClientState, start.GetProperty("client_state").GetString());
        Assert.Equal("+13122010094", start.GetProperty("from").GetString());
        Assert.Equal("+13122123456", start.GetProperty("to").GetString());
        Assert.Equal("PCMU", start.GetProperty("media_format").GetProperty("encoding").GetString());
        Assert.Equal(8000, start.GetProperty("media_format").GetProperty("sample_rate").GetInt32());
        Assert.Equal(1, start.GetProperty("media_format").GetProperty("channels").GetInt32());
        Assert.Equal(settings.CallControlId, frames[^1].Json.GetProperty("stop").GetProperty("call_control_id").GetString());
        Assert.Equal("1", frames.Single(f => f.Event == "dtmf").Json.GetProperty("dtmf").GetProperty("digit").GetString());
        Assert.Equal("greeting-done", frames.Single(f => f.Event == "mark").Json.GetProperty("mark").GetProperty("name").GetString());

        var numbered = frames.Skip(1).ToList();
        Assert.All(numbered, f => Assert.Equal(recording.StreamId, f.Json.GetProperty("stream_id").GetString()));
        Assert.Equal(Enumerable.Range(1, numbered.Count), numbered.Select(f => int.Parse(f.Json.GetProperty("sequence_number").GetString()!, CultureInfo.InvariantCulture)));
        var line = Assert.Single(recording.CallerLines);
        Assert.Equal("hello there", line.Text);
        Assert.True(line.End > line.Start);
        Assert.Equal("1", Assert.Single(recording.DtmfSent).Digit);
        Assert.Equal("greeting-done", Assert.Single(recording.MarksEchoed).Name);
    }

    [Fact]
    public async Task Caller_OneSecondOfSilence_PacesTwentyMillisecondFramesInRealTime()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeMediaServer.StartAsync();

        var recording = await TelnyxMediaCaller.RunAsync(
            new MediaCallSettings { StreamUrl = server.StreamUrl() }, new CallerScript().Silence(TimeSpan.FromSeconds(1)).HangUp(), ct);
        await server.Finished;

        var media = (await server.Connection).Received.Where(f => f.Event == "media").ToList();
        Assert.InRange(media.Count, 50, 55);
        Assert.Equal(media.Count, recording.MediaFramesSent);
        var span = media[^1].At - media[0].At;
        Assert.InRange(span, TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(4));
        for (var i = 0; i < media.Count; i++)
        {
            var body = media[i].Json.GetProperty("media");
            Assert.Equal("inbound", body.GetProperty("track").GetString());
            Assert.Equal((i + 1).ToString(CultureInfo.InvariantCulture), body.GetProperty("chunk").GetString());
            Assert.Equal((i * 20).ToString(CultureInfo.InvariantCulture), body.GetProperty("timestamp").GetString());
            Assert.Equal(Enumerable.Repeat((byte)0xFF, 160), media[i].Payload());
        }
    }

    [Theory]
    [InlineData("PCMU", 20, 160)]
    [InlineData("PCMU", 40, 320)]
    [InlineData("PCMU", 100, 800)]
    [InlineData("PCMA", 20, 160)]
    [InlineData("PCMA", 40, 320)]
    [InlineData("PCMA", 100, 800)]
    [InlineData("L16", 20, 640)]
    [InlineData("L16", 40, 1280)]
    [InlineData("L16", 100, 3200)]
    public async Task Caller_ChunkDuration_SendsPayloadsOfThatManyBytes(string encoding, int chunkMs, int expectedBytes)
    {
        var ct = TestContext.Current.CancellationToken;
        var format = encoding switch
        {
            "PCMU" => EmulatedAudioFormat.Pcmu8k,
            "PCMA" => EmulatedAudioFormat.Pcma8k,
            _ => EmulatedAudioFormat.L16At16k,
        };
        await using var server = await FakeMediaServer.StartAsync();
        var settings = new MediaCallSettings { StreamUrl = server.StreamUrl(), Format = format, InboundChunk = TimeSpan.FromMilliseconds(chunkMs) };

        await TelnyxMediaCaller.RunAsync(settings, new CallerScript().Say("yes").Silence(TimeSpan.FromMilliseconds(200)).HangUp(), ct);
        await server.Finished;

        var frames = (await server.Connection).Received;
        var mediaFormat = frames.Single(f => f.Event == "start").Json.GetProperty("start").GetProperty("media_format");
        Assert.Equal(encoding, mediaFormat.GetProperty("encoding").GetString());
        Assert.Equal(format.SampleRate, mediaFormat.GetProperty("sample_rate").GetInt32());
        var payloads = frames.Where(f => f.Event == "media").Select(f => f.Payload()).ToList();
        Assert.True(payloads.Count >= 3, $"only {payloads.Count} media frames");
        Assert.All(payloads, p => Assert.Equal(expectedBytes, p.Length));
        var speech = payloads.Select(p => SyntheticSpeech.Rms(format.Decode(p))).ToList();
        Assert.True(speech[0] > 1000, "the first frame carries the spoken line");
        Assert.True(speech[^1] < 50, "the last frame is silence");
    }

    [Fact]
    public async Task Caller_AuthTokenAndQuery_SentInTheHandshakeAsGiven()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeMediaServer.StartAsync();

        await TelnyxMediaCaller.RunAsync(
            new MediaCallSettings { StreamUrl = server.StreamUrl("/stream?call=abc%3D&leg=1"), AuthToken = "s3cret" }, new CallerScript().HangUp(), ct);
        await server.Finished;

        var agent = await server.Connection;
        Assert.Equal("s3cret", agent.AuthToken);
        Assert.Equal("?call=abc%3D&leg=1", agent.Query);
    }

    [Fact]
    public async Task Caller_NoAuthToken_SendsNoTokenHeader()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeMediaServer.StartAsync();

        await TelnyxMediaCaller.RunAsync(new MediaCallSettings { StreamUrl = server.StreamUrl() }, new CallerScript().HangUp(), ct);
        await server.Finished;

        Assert.Null((await server.Connection).AuthToken);
    }

    [Fact]
    public async Task Caller_HandshakeRejected_EndsWithStatusCode()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeMediaServer.StartAsync();

        var recording = await TelnyxMediaCaller.RunAsync(
            new MediaCallSettings { StreamUrl = server.StreamUrl("/stream?reject=401") }, new CallerScript().HangUp(), ct);

        Assert.Equal(CallEndReason.ConnectFailed, recording.EndReason);
        Assert.Equal(401, recording.HandshakeStatusCode);
    }

    [Fact]
    public async Task Caller_MalformedFrames_AnswersWithErrorFramesAndKeepsGoing()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] bad =
        [
            "not json",
            """{"event":"media","media":{"payload":"***"}}""",
            """{"event":"media","media":{"payload":"AAAA"}}""",
            """{"event":"media"}""",
            """{"event":"dance"}""",
            """{"event":"mark"}""",
        ];
        var errors = new List<ReceivedFrame>();
        await using var server = await FakeMediaServer.StartAsync(async (agent, token) =>
        {
            await agent.NextAsync("start", token);
            foreach (var frame in bad)
            {
                await agent.SendTextAsync(frame, token);
            }

            await agent.SendAsync([1, 2, 3], WebSocketMessageType.Binary, token);
            await agent.SendMarkAsync("still-here", token);
            await agent.NextAsync(f => f.Event == "mark", token);
            errors.AddRange(agent.Received.Where(f => f.Event == "error"));
            await agent.CloseAsync(token);
        });

        var recording = await TelnyxMediaCaller.RunAsync(
            new MediaCallSettings { StreamUrl = server.StreamUrl(), Format = EmulatedAudioFormat.L16At16k },
            new CallerScript().Silence(TimeSpan.FromSeconds(30)).HangUp(),
            ct);
        await server.Finished;

        int[] expected = [100003, 100004, 100004, 100003, 100003, 100003, 100003];
        Assert.Equal(expected, errors.Select(e => e.Json.GetProperty("payload").GetProperty("code").GetInt32()));
        Assert.All(errors, e => AssertShape(Fixture("ws_error.constructed_from_docs_schema.json"), e.Json));
        Assert.Equal("invalid_media", errors[1].Json.GetProperty("payload").GetProperty("title").GetString());
        Assert.Equal(expected, recording.ErrorsSent.Select(e => e.Code));
        Assert.Equal("still-here", Assert.Single(recording.MarksEchoed).Name);
        Assert.Empty(recording.Arrivals);
        Assert.Equal(CallEndReason.ServerClosed, recording.EndReason);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, recording.ServerCloseStatus);
        Assert.DoesNotContain((await server.Connection).Received, f => f.Event == "stop");
    }

    private static JsonElement Fixture(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "telnyx", name))).RootElement.Clone();

    /// <summary>Same keys (plus any listed extra paths) and the same JSON kinds, recursively: numbers stay strings.</summary>
    private static void AssertShape(JsonElement expected, JsonElement actual, params string[] extraPaths) =>
        AssertShape(expected, actual, "", extraPaths);

    private static void AssertShape(JsonElement expected, JsonElement actual, string path, string[] extraPaths)
    {
        Assert.True(expected.ValueKind == actual.ValueKind, $"{path}: expected {expected.ValueKind}, got {actual.ValueKind}");
        if (expected.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var expectedKeys = expected.EnumerateObject().Select(p => p.Name).ToHashSet();
        var actualKeys = actual.EnumerateObject().Select(p => p.Name).Where(k => !extraPaths.Contains(Join(path, k))).ToHashSet();
        Assert.True(expectedKeys.SetEquals(actualKeys), $"{path}: expected keys [{string.Join(", ", expectedKeys)}], got [{string.Join(", ", actualKeys)}]");
        foreach (var key in expectedKeys)
        {
            AssertShape(expected.GetProperty(key), actual.GetProperty(key), Join(path, key), extraPaths);
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
