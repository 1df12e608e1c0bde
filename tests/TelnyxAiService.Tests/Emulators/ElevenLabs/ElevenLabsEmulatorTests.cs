using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.ElevenLabs;

namespace TelnyxAiService.Tests.Emulators.ElevenLabs;

public sealed class ElevenLabsEmulatorTests
{
    private const string VoicePath = "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StreamInput_FixtureSession_RepliesWithTheFixtureMessageShapes()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        var fixture = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "elevenlabs", "ws_stream_input_session.constructed.jsonl"))
            .Select(line => JsonNode.Parse(line)!.AsObject())
            .ToList();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(StreamInputUrl(emulator), Token);

        var replies = new List<JsonObject>();
        var spoken = new StringBuilder();
        foreach (var entry in fixture.Where(e => (string)e["dir"]! == "client->server"))
        {
            var message = entry["msg"]!.AsObject().DeepClone().AsObject();
            if (message.ContainsKey("xi-api-key"))
            {
                message["xi-api-key"] = emulator.ApiKey;
            }
            else
            {
                spoken.Append((string?)message["text"]);
            }

            await SendAsync(socket, message);
            if (message["flush"]?.GetValue<bool>() == true)
            {
                replies.Add(await ReceiveAsync(socket));
            }
        }

        while (await ReceiveOrCloseAsync(socket) is { } reply)
        {
            replies.Add(reply);
        }

        var fixtureAudio = fixture.First(e => (string)e["dir"]! == "server->client" && e["msg"]!["audio"] is not null)["msg"]!.AsObject();
        var expectedAudio = Keys(fixtureAudio);
        var audio = replies.SkipLast(1).ToList();
        Assert.True(audio.Count >= 3, $"expected several audio messages, got {audio.Count}");
        Assert.All(audio, m => Assert.Equal(expectedAudio, Keys(m)));
        Assert.All(audio, m => Assert.Null(m["isFinal"]));
        Assert.Equal(Keys(fixtureAudio["normalizedAlignment"]!.AsObject()), Keys(audio[0]["normalizedAlignment"]!.AsObject()));
        Assert.Equal(Keys(fixtureAudio["alignment"]!.AsObject()), Keys(audio[0]["alignment"]!.AsObject()));
        Assert.Equal(" ", (string?)audio[0]["normalizedAlignment"]!["chars"]![0]);
        Assert.Equal("H", (string?)audio[0]["alignment"]!["chars"]![0]);
        Assert.Equal(
            SyntheticSpeech.For(spoken.ToString(), EmulatedAudioFormat.Pcmu8k),
            audio.SelectMany(m => Convert.FromBase64String((string)m["audio"]!)).ToArray());
        Assert.Equal("""{"isFinal":true}""", replies[^1].ToJsonString());
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal(fixture.Count(e => (string)e["dir"]! == "client->server"), Assert.Single(emulator.Requests).Messages.Count);
    }

    [Fact]
    public async Task StreamInput_ChunkLengthScheduleReached_SpeaksBeforeFlush()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("xi-api-key", emulator.ApiKey);
        await socket.ConnectAsync(StreamInputUrl(emulator), Token);

        await SendAsync(socket, new JsonObject { ["text"] = " ", ["generation_config"] = new JsonObject { ["chunk_length_schedule"] = new JsonArray(50) } });
        await SendAsync(socket, new JsonObject { ["text"] = "Buenos días, le llamo para confirmar su cita de mañana. " });

        var first = await ReceiveAsync(socket);
        Assert.NotNull(first["audio"]);
    }

    [Fact]
    public async Task StreamInput_WrongKeyInFirstMessage_SendsErrorAndClosesWithPolicyViolation()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(StreamInputUrl(emulator), Token);

        await SendAsync(socket, new JsonObject { ["text"] = " ", ["xi-api-key"] = "wrong" });

        var error = await ReceiveAsync(socket);
        Assert.Equal("invalid_api_key", (string?)error["error"]);
        Assert.Null(await ReceiveOrCloseAsync(socket));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
    }

    [Fact]
    public async Task StreamInput_FaultQueued_RejectsTheHandshake()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        emulator.FailNext(ElevenLabsFault.Http429);
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(StreamInputUrl(emulator), Token));

        Assert.Equal(HttpStatusCode.TooManyRequests, socket.HttpStatusCode);
    }

    [Fact]
    public async Task Stream_QuotaFault_ReturnsTheRecordedBody()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        emulator.FailNext(ElevenLabsFault.Http401Quota);

        using var response = await PostAsync(emulator, $"{VoicePath}/stream?output_format=ulaw_8000", new JsonObject { ["text"] = "Hola" });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var recorded = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "elevenlabs", "http_error_401_quota_exceeded.recorded.json")));
        Assert.True(JsonNode.DeepEquals(recorded, JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))));
    }

    [Fact]
    public async Task Stream_MissingText_Returns422ValidationList()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);

        using var response = await PostAsync(emulator, $"{VoicePath}/stream?output_format=ulaw_8000", new JsonObject { ["model_id"] = "eleven_flash_v2_5" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!["detail"]![0]!;
        Assert.Equal("missing", (string?)problem["type"]);
        Assert.Equal("""["body","text"]""", problem["loc"]!.ToJsonString());
    }

    [Fact]
    public async Task Stream_Mp3OrNoOutputFormat_Returns422UnsupportedOutputFormat()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);

        foreach (var query in new[] { "?output_format=mp3_44100_128", "" })
        {
            using var response = await PostAsync(emulator, $"{VoicePath}/stream{query}", new JsonObject { ["text"] = "Hola" });

            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Equal("unsupported_output_format", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!["detail"]!["status"]);
        }
    }

    [Fact]
    public async Task Stream_NoKey_Returns401()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        using var http = new HttpClient { BaseAddress = emulator.BaseUrl };

        using var response = await http.PostAsJsonAsync($"{VoicePath}/stream?output_format=ulaw_8000", new JsonObject { ["text"] = "Hola" }, Token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("needs_authorization", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!["detail"]!["status"]);
    }

    [Fact]
    public async Task Convert_WholeFile_ReturnsAllTheAudioWithContentLength()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);

        using var response = await PostAsync(emulator, $"{VoicePath}?output_format=pcm_16000", new JsonObject { ["text"] = "Hola, buenos días." });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = SyntheticSpeech.For("Hola, buenos días.", EmulatedAudioFormat.L16At16k);
        Assert.Equal(expected.Length, response.Content.Headers.ContentLength);
        Assert.Equal(expected, await response.Content.ReadAsByteArrayAsync(Token));
    }

    private static Uri StreamInputUrl(ElevenLabsEmulator emulator) =>
        new($"{emulator.WebSocketBaseUrl.AbsoluteUri.TrimEnd('/')}{VoicePath}/stream-input?model_id=eleven_flash_v2_5&output_format=ulaw_8000");

    private static async Task<HttpResponseMessage> PostAsync(ElevenLabsEmulator emulator, string path, JsonObject body)
    {
        using var http = new HttpClient { BaseAddress = emulator.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("xi-api-key", emulator.ApiKey);
        return await http.SendAsync(request, Token);
    }

    private static List<string> Keys(JsonObject json) => [.. json.Select(p => p.Key).Order(StringComparer.Ordinal)];

    private static Task SendAsync(ClientWebSocket socket, JsonObject message) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, Token);

    private static async Task<JsonObject> ReceiveAsync(ClientWebSocket socket) =>
        await ReceiveOrCloseAsync(socket) ?? throw new InvalidOperationException("The socket closed.");

    private static async Task<JsonObject?> ReceiveOrCloseAsync(ClientWebSocket socket)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        while (true)
        {
            var result = await socket.ReceiveAsync(chunk, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            buffer.Write(chunk, 0, result.Count);
            if (result.EndOfMessage)
            {
                return JsonNode.Parse(buffer.ToArray())!.AsObject();
            }
        }
    }
}
