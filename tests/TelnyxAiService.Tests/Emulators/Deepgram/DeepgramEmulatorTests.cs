using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.Deepgram;

namespace TelnyxAiService.Tests.Emulators.Deepgram;

public sealed class DeepgramEmulatorTests
{
    private const string FixtureQuery = "model=nova-3&language=en&encoding=mulaw&sample_rate=8000&channels=1&interim_results=true" +
        "&endpointing=500&utterance_end_ms=1000&vad_events=true&smart_format=true&punctuate=true&diarize=true";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, int> Formats => new() { { "PCMU", 8000 }, { "PCMA", 8000 }, { "L16", 16000 } };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Detector_SyntheticSpeechAndSilence_AreToldApartInEveryFrame(string encoding, int sampleRate)
    {
        var format = new EmulatedAudioFormat(encoding, sampleRate);
        var frameBytes = format.BytesPer(TimeSpan.FromMilliseconds(20));
        var speech = format.Decode(SyntheticSpeech.For("I would like to book a table for two", format));
        var silence = format.Decode(SyntheticSpeech.Silence(TimeSpan.FromSeconds(1), format));
        var random = new Random(1);
        var noise = format.Decode(format.Encode([.. Enumerable.Range(0, sampleRate).Select(_ => (short)random.Next(-300, 300))]));
        var samplesPerFrame = frameBytes / format.BytesPerSample;

        Assert.All(speech.Chunk(samplesPerFrame).SkipLast(1), frame => Assert.True(SpeechDetector.IsSpeech(frame)));
        Assert.All(silence.Chunk(samplesPerFrame), frame => Assert.False(SpeechDetector.IsSpeech(frame)));
        Assert.All(noise.Chunk(samplesPerFrame), frame => Assert.False(SpeechDetector.IsSpeech(frame)));
    }

    [Fact]
    public async Task Results_SpokenLine_HaveTheRecordedShape()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(new() { Segments = ["Paris at a moment's notice."] }, Token);

        var messages = await ListenAsync(emulator, FixtureQuery, async socket =>
        {
            await SendAudioAsync(socket, SyntheticSpeech.For("Paris at a moment's notice", EmulatedAudioFormat.Pcmu8k));
            await SendAudioAsync(socket, SyntheticSpeech.Silence(TimeSpan.FromMilliseconds(1200), EmulatedAudioFormat.Pcmu8k));
            await SendTextAsync(socket, """{"type":"CloseStream"}""");
        });

        Assert.Equal(["SpeechStarted", "Results", "UtteranceEnd", "Metadata"], messages.Select(Type).Distinct());
        var interim = messages.First(m => Type(m) == "Results" && !m.GetProperty("is_final").GetBoolean());
        var final = Assert.Single(messages, m => Type(m) == "Results" && m.GetProperty("is_final").GetBoolean());
        Assert.Equal(Paths(Fixture("results_interim.recorded.json")), Paths(interim));
        Assert.Equal(Paths(Fixture("results_is_final_speech_final.recorded.json")), Paths(final));
        Assert.Equal(Paths(Fixture("speech_started.constructed.json")), Paths(messages[0]));
        Assert.Equal(Paths(Fixture("metadata.constructed.json")), Paths(messages[^1]));
        Assert.True(final.GetProperty("speech_final").GetBoolean());
        var alternative = final.GetProperty("channel").GetProperty("alternatives")[0];
        Assert.Equal("Paris at a moment's notice.", alternative.GetProperty("transcript").GetString());
        Assert.Equal(
            ["paris", "at", "a", "moment's", "notice"],
            alternative.GetProperty("words").EnumerateArray().Select(w => w.GetProperty("word").GetString()));
        Assert.Equal("UtteranceEnd", Type(messages[^2]));
    }

    [Fact]
    public async Task Results_SegmentLongerThanEightWords_IsFinalHalfWayThenAtTheEndpoint()
    {
        const string Line = "I would like to book a table for two people tomorrow night";
        await using var emulator = await DeepgramEmulator.StartAsync(new() { Segments = [Line] }, Token);

        var messages = await ListenAsync(emulator, "encoding=linear16&sample_rate=16000&interim_results=true&endpointing=300&punctuate=true", async socket =>
        {
            await SendAudioAsync(socket, SyntheticSpeech.For(Line, EmulatedAudioFormat.L16At16k));
            await SendAudioAsync(socket, SyntheticSpeech.Silence(TimeSpan.FromMilliseconds(400), EmulatedAudioFormat.L16At16k));
            await SendTextAsync(socket, """{"type":"CloseStream"}""");
        });

        var finals = messages.Where(m => Type(m) == "Results" && m.GetProperty("is_final").GetBoolean())
            .Select(m => (Transcript(m), m.GetProperty("speech_final").GetBoolean()))
            .ToList();
        Assert.Equal([("I would like to book a", false), ("table for two people tomorrow night", true)], finals);
        Assert.DoesNotContain(messages, m => Type(m) == "SpeechStarted");
    }

    [Fact]
    public async Task Finalize_DuringSpeech_FlushesTheSegmentFromFinalize()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(new() { DefaultText = "one two three" }, Token);

        var messages = await ListenAsync(emulator, "encoding=mulaw&sample_rate=8000", async socket =>
        {
            await SendAudioAsync(socket, SyntheticSpeech.For("one two", EmulatedAudioFormat.Pcmu8k));
            await SendTextAsync(socket, """{"type":"Finalize"}""");
            await SendTextAsync(socket, """{"type":"CloseStream"}""");
        });

        var result = Assert.Single(messages, m => Type(m) == "Results");
        Assert.True(result.GetProperty("from_finalize").GetBoolean());
        Assert.True(result.GetProperty("is_final").GetBoolean());
        Assert.Equal("one two three", Transcript(result));
        Assert.Equal(["Finalize", "CloseStream"], emulator.Connections[0].ControlMessages.Select(m => m.Type));
    }

    [Fact]
    public async Task FinalDelay_Set_HoldsTheFinalBackThatLong()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(new() { FinalDelay = TimeSpan.FromMilliseconds(800) }, Token);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var messages = await ListenAsync(emulator, "encoding=mulaw&sample_rate=8000&endpointing=300", async socket =>
        {
            await SendAudioAsync(socket, SyntheticSpeech.For("hello", EmulatedAudioFormat.Pcmu8k));
            await SendAudioAsync(socket, SyntheticSpeech.Silence(TimeSpan.FromMilliseconds(400), EmulatedAudioFormat.Pcmu8k));
            await SendTextAsync(socket, """{"type":"CloseStream"}""");
        });

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(800), $"{clock.Elapsed}");
        Assert.Equal("hello", Transcript(Assert.Single(messages, m => Type(m) == "Results")));
    }

    [Fact]
    public async Task ScriptForConnection_TwoConnectionsAtOnce_EachReadsItsOwnScript()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(
            new() { ScriptForConnection = index => [$"call {index} first", $"call {index} second"] },
            Token);
        using var first = await ConnectAsync(emulator, "encoding=mulaw&sample_rate=8000&endpointing=300", emulator.ApiKey);
        using var second = await ConnectAsync(emulator, "encoding=mulaw&sample_rate=8000&endpointing=300", emulator.ApiKey);
        var firstMessages = ReceiveAllAsync(first);
        var secondMessages = ReceiveAllAsync(second);

        foreach (var socket in new[] { second, first, second, first })
        {
            await SendAudioAsync(socket, SyntheticSpeech.For("some words", EmulatedAudioFormat.Pcmu8k));
            await SendAudioAsync(socket, SyntheticSpeech.Silence(TimeSpan.FromMilliseconds(400), EmulatedAudioFormat.Pcmu8k));
        }

        await SendTextAsync(first, """{"type":"CloseStream"}""");
        await SendTextAsync(second, """{"type":"CloseStream"}""");
        Assert.Equal(["call 0 first", "call 0 second"], (await firstMessages).Where(m => Type(m) == "Results").Select(Transcript));
        Assert.Equal(["call 1 first", "call 1 second"], (await secondMessages).Where(m => Type(m) == "Results").Select(Transcript));
    }

    [Fact]
    public async Task Idle_NoAudioNorKeepAlive_ClosesWith1011Net0001()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(new() { IdleTimeout = TimeSpan.FromMilliseconds(300) }, Token);
        using var socket = await ConnectAsync(emulator, "encoding=mulaw&sample_rate=8000", emulator.ApiKey);

        var result = await socket.ReceiveAsync(new byte[1024], Token);

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.InternalServerError, socket.CloseStatus);
        Assert.Contains("NET-0001", socket.CloseStatusDescription, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("encoding=mulaw&sample_rate=8000", "wrong-key", HttpStatusCode.Unauthorized)]
    [InlineData("encoding=mulaw&sample_rate=8000", null, HttpStatusCode.Unauthorized)]
    [InlineData("encoding=opus&sample_rate=8000", "", HttpStatusCode.BadRequest)]
    [InlineData("encoding=mulaw", "", HttpStatusCode.BadRequest)]
    public async Task Handshake_BadCredentialsOrSettings_IsRefusedWithoutUpgrade(string query, string? key, HttpStatusCode expected)
    {
        await using var emulator = await DeepgramEmulator.StartAsync(cancellationToken: Token);
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (key is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Token {(key.Length == 0 ? emulator.ApiKey : key)}");
        }

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"{emulator.ListenUrl}?{query}"), Token));

        Assert.Equal(expected, socket.HttpStatusCode);
        Assert.Empty(emulator.Connections);
    }

    private static async Task<List<JsonElement>> ListenAsync(DeepgramEmulator emulator, string query, Func<ClientWebSocket, Task> send)
    {
        using var socket = await ConnectAsync(emulator, query, emulator.ApiKey);
        var receiving = ReceiveAllAsync(socket);
        await send(socket);
        return await receiving.WaitAsync(TimeSpan.FromSeconds(30), Token);
    }

    private static async Task<ClientWebSocket> ConnectAsync(DeepgramEmulator emulator, string query, string key)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Token {key}");
        await socket.ConnectAsync(new Uri($"{emulator.ListenUrl}?{query}"), Token);
        return socket;
    }

    private static async Task<List<JsonElement>> ReceiveAllAsync(ClientWebSocket socket)
    {
        var messages = new List<JsonElement>();
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, Token);
                return messages;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                messages.Add(JsonDocument.Parse(message.ToArray()).RootElement.Clone());
                message.SetLength(0);
            }
        }
    }

    private static async Task SendAudioAsync(ClientWebSocket socket, byte[] audio)
    {
        foreach (var chunk in audio.Chunk(320))
        {
            await socket.SendAsync(chunk, WebSocketMessageType.Binary, true, Token);
        }
    }

    private static Task SendTextAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, Token);

    private static string? Type(JsonElement message) => message.GetProperty("type").GetString();

    private static string? Transcript(JsonElement results) =>
        results.GetProperty("channel").GetProperty("alternatives")[0].GetProperty("transcript").GetString();

    private static JsonElement Fixture(string name) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "deepgram", name))).RootElement.Clone();

    /// <summary>Every key path in a JSON value ("channel/alternatives[]/words[]/word"), to compare shapes.</summary>
    private static SortedSet<string> Paths(JsonElement element)
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        Collect(element, "");
        return paths;

        void Collect(JsonElement value, string path)
        {
            if (value.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in value.EnumerateObject())
                {
                    paths.Add($"{path}/{property.Name}");
                    Collect(property.Value, $"{path}/{property.Name}");
                }
            }
            else if (value.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in value.EnumerateArray())
                {
                    Collect(item, $"{path}[]");
                }
            }
        }
    }
}
