using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using TelnyxAiService.Audio;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.ElevenLabs;
using TelnyxAiService.Providers;
using TelnyxAiService.Tests.TestHost;
using TelnyxAiService.Voice.ElevenLabs;

namespace TelnyxAiService.Tests.Voice;

public sealed class ElevenLabsTextToSpeechTests
{
    private const string Greeting = "Hola, gracias por llamar. ¿En qué puedo ayudarle?";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Synthesize_Pcmu_StreamsMuLawInSeveralChunks()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);

        var chunks = await CollectAsync(Client(emulator), Greeting, AudioFormat.Pcmu8k);

        Assert.True(chunks.Count >= 3, $"expected several chunks, got {chunks.Count}");
        var audio = chunks.SelectMany(c => c).ToArray();
        Assert.Equal(SyntheticSpeech.For(Greeting, EmulatedAudioFormat.Pcmu8k), audio);
        Assert.Equal("ulaw_8000", Assert.Single(emulator.Requests).Query["output_format"]);

        // Decoded as µ-law it is speech-level audio, not noise from a misread codec.
        var samples = audio.Select(TelnyxAiService.Audio.G711.MuLawToLinear).ToArray();
        Assert.InRange(Math.Sqrt(samples.Average(s => (double)s * s)), 2000, 7000);
    }

    [Fact]
    public async Task Synthesize_LongerText_GivesProportionallyLongerAudio()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        var client = Client(emulator);

        var shortAudio = (await CollectAsync(client, "Sí, claro.", AudioFormat.Pcmu8k)).Sum(c => c.Length);
        var longAudio = (await CollectAsync(client, Greeting, AudioFormat.Pcmu8k)).Sum(c => c.Length);

        Assert.Equal(AudioFormat.Pcmu8k.DurationOf(shortAudio), SyntheticSpeech.DurationOf("Sí, claro."));
        Assert.Equal(AudioFormat.Pcmu8k.DurationOf(longAudio), SyntheticSpeech.DurationOf(Greeting));
        Assert.True(longAudio > 4 * shortAudio);
    }

    [Theory]
    [InlineData(AudioEncoding.Pcma, 8000, "alaw_8000")]
    [InlineData(AudioEncoding.L16, 16000, "pcm_16000")]
    [InlineData(AudioEncoding.L16, 8000, "pcm_8000")]
    public async Task Synthesize_OtherFormats_AsksForTheMatchingOutputFormat(AudioEncoding encoding, int sampleRate, string outputFormat)
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        var format = new AudioFormat(encoding, sampleRate);

        var chunks = await CollectAsync(Client(emulator), Greeting, format);

        Assert.Equal(outputFormat, Assert.Single(emulator.Requests).Query["output_format"]);
        Assert.All(chunks, c => Assert.Equal(0, c.Length % format.BytesPerSample));
        Assert.Equal(SyntheticSpeech.DurationOf(Greeting), format.DurationOf(chunks.Sum(c => c.Length)));
    }

    [Fact]
    public async Task Synthesize_Request_HasDocumentedPathHeadersAndBody()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);

        await CollectAsync(Client(emulator), "Hola", AudioFormat.Pcmu8k);

        var request = Assert.Single(emulator.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream", request.Path);
        Assert.Equal(new Dictionary<string, string> { ["output_format"] = "ulaw_8000", ["optimize_streaming_latency"] = "3" }, request.Query);
        Assert.Equal(emulator.ApiKey, request.Headers["xi-api-key"]);
        Assert.Equal("application/json; charset=utf-8", request.Headers["Content-Type"]);
        Assert.Equal(
            """{"text":"Hola","model_id":"eleven_flash_v2_5","language_code":"es","voice_settings":{"stability":0.5,"similarity_boost":0.75,"speed":1}}""",
            request.Body);
    }

    [Fact]
    public async Task Synthesize_WrongKey_ThrowsNonRetryableWithoutRetrying()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(Client(emulator, apiKey: "wrong"), Greeting, AudioFormat.Pcmu8k));

        Assert.Equal("elevenlabs", error.Provider);
        Assert.False(error.Retryable);
        Assert.Contains("HTTP 401 invalid_api_key", error.Message);
        Assert.Single(emulator.Requests);
    }

    [Fact]
    public async Task Synthesize_QuotaExceeded_ThrowsNonRetryableWithTheVendorMessage()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        emulator.FailNext(ElevenLabsFault.Http401Quota);

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(Client(emulator), Greeting, AudioFormat.Pcmu8k));

        Assert.False(error.Retryable);
        Assert.Contains("quota_exceeded: This request exceeds your quota.", error.Message);
        Assert.Single(emulator.Requests);
    }

    [Fact]
    public async Task Synthesize_429Once_RetriesAndSucceeds()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        emulator.FailNext(ElevenLabsFault.Http429);

        var audio = (await CollectAsync(Client(emulator), Greeting, AudioFormat.Pcmu8k)).Sum(c => c.Length);

        Assert.Equal(SyntheticSpeech.For(Greeting, EmulatedAudioFormat.Pcmu8k).Length, audio);
        Assert.Equal(2, emulator.Requests.Count);
    }

    [Fact]
    public async Task Synthesize_500Twice_ThrowsRetryableAfterOneRetry()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);
        emulator.FailNext(ElevenLabsFault.Http500, 2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(Client(emulator), Greeting, AudioFormat.Pcmu8k));

        Assert.True(error.Retryable);
        Assert.Contains("HTTP 500", error.Message);
        Assert.Equal(2, emulator.Requests.Count);
    }

    [Fact]
    public async Task Synthesize_StreamBreaksBeforeTheFirstByte_RetriesAndSucceeds()
    {
        var server = new BreakingServer(bytesBeforeBreak: [0, null]);
        var client = new ElevenLabsTextToSpeech(new HttpClient(server), Options(new Uri("http://elevenlabs.test"), "key"), TestTelemetry.Instance, TimeProvider.System, NullLogger<ElevenLabsTextToSpeech>.Instance);

        var audio = (await CollectAsync(client, Greeting, AudioFormat.Pcmu8k)).SelectMany(c => c).ToArray();

        Assert.Equal(BreakingServer.Audio, audio);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task Synthesize_StreamBreaksAfterTheFirstByte_ThrowsRetryableWithoutRetrying()
    {
        var server = new BreakingServer(bytesBeforeBreak: [800, null]);
        var client = new ElevenLabsTextToSpeech(new HttpClient(server), Options(new Uri("http://elevenlabs.test"), "key"), TestTelemetry.Instance, TimeProvider.System, NullLogger<ElevenLabsTextToSpeech>.Instance);
        var received = new List<byte>();

        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var chunk in client.SynthesizeAsync(Greeting, AudioFormat.Pcmu8k, Token))
            {
                received.AddRange(chunk.ToArray());
            }
        });

        Assert.True(error.Retryable);
        Assert.Contains("the audio stream broke after 800 bytes", error.Message);
        Assert.Equal(BreakingServer.Audio[..800], received);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Synthesize_NothingListening_ThrowsRetryable()
    {
        var port = ServiceProcess.FreePort();
        var options = Options(new Uri($"http://127.0.0.1:{port}"), "key");

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(Client(options), Greeting, AudioFormat.Pcmu8k));

        Assert.True(error.Retryable);
        Assert.Contains("could not reach 127.0.0.1", error.Message);
    }

    [Fact]
    public async Task Synthesize_CancelledMidStream_StopsPromptly()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(new ElevenLabsEmulatorOptions { RealtimeFactor = 1 }, Token);
        var text = string.Concat(Enumerable.Repeat(Greeting + " ", 8));
        Assert.True(SyntheticSpeech.DurationOf(text) > TimeSpan.FromSeconds(20));
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var received = 0;
        var stopwatch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in Client(emulator).SynthesizeAsync(text, AudioFormat.Pcmu8k, cancellation.Token))
            {
                received += chunk.Length;
                cancellation.Cancel();
            }
        });

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
        Assert.InRange(received, 1, SyntheticSpeech.For(text, EmulatedAudioFormat.Pcmu8k).Length / 4);
    }

    [Fact]
    public async Task Synthesize_BlankText_SendsNothing()
    {
        await using var emulator = await ElevenLabsEmulator.StartAsync(cancellationToken: Token);

        Assert.Empty(await CollectAsync(Client(emulator), "  ", AudioFormat.Pcmu8k));
        Assert.Empty(emulator.Requests);
    }

    [Theory]
    [InlineData(422, """{"detail":[{"type":"missing","loc":["body","text"],"msg":"Field required","input":null}]}""", "HTTP 422 validation_error: body.text: Field required", false)]
    [InlineData(502, "<html>Bad Gateway</html>", "HTTP 502: <html>Bad Gateway</html>", true)]
    [InlineData(400, """{"detail":"voice_id is not valid"}""", "HTTP 400: voice_id is not valid", false)]
    [InlineData(429, """{"detail":{"status":"system_busy","message":"Busy."}}""", "HTTP 429 system_busy: Busy.", true)]
    [InlineData(429, """{"detail":{"status":"too_many_concurrent_requests"}}""", "HTTP 429 too_many_concurrent_requests: {\"detail\":{\"status\":\"too_many_concurrent_requests\"}}", true)]
    [InlineData(422, """{"detail":[{"loc":["body","pronunciation_dictionary_locators",0,"version_id"],"msg":"Field required","type":"missing"},{"msg":"Bad"}]}""", "HTTP 422 validation_error: body.pronunciation_dictionary_locators.0.version_id: Field required; ?: Bad", false)]
    [InlineData(500, """{"detail":{"status":42,"message":"Oops"}}""", "HTTP 500: {\"detail\":{\"status\":42,\"message\":\"Oops\"}}", true)]
    [InlineData(500, """{"detail":[{"loc":[{"at":1}],"msg":"x"}]}""", "HTTP 500: {\"detail\":[{\"loc\":[{\"at\":1}],\"msg\":\"x\"}]}", true)]
    [InlineData(503, """{"detail":{"status":"busy","message":"line\none"}}""", "HTTP 503 busy: line\\u000aone", true)]
    [InlineData(503, """{"detail":{"status":"busy","message":"\ud800"}}""", "HTTP 503: {\"detail\":{\"status\":\"busy\",\"message\":\"\\ud800\"}}", true)]
    public async Task ErrorFrom_VendorErrorBodies_GiveMessageAndRetryability(int status, string body, string message, bool retryable)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent(body) };

        var error = await ElevenLabsTextToSpeech.ErrorFromAsync(response, Token);

        Assert.Equal($"elevenlabs: {message}", error.Message);
        Assert.Equal(retryable, error.Retryable);
    }

    [Fact]
    public async Task ErrorFrom_RecordedQuotaExceeded_NotRetryable()
    {
        var body = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "elevenlabs", "http_error_401_quota_exceeded.recorded.json"), Token);
        using var response = new HttpResponseMessage(HttpStatusCode.Unauthorized) { Content = new StringContent(body) };

        var error = await ElevenLabsTextToSpeech.ErrorFromAsync(response, Token);

        Assert.Equal("elevenlabs: HTTP 401 quota_exceeded: This request exceeds your quota. You have 11 characters remaining, while 70 characters are required for this request.", error.Message);
        Assert.False(error.Retryable);
    }

    /// <summary>
    /// Answers 200 and streams <see cref="Audio"/>, the body of request n breaking (an I/O error) after
    /// <c>bytesBeforeBreak[n]</c> bytes, or never when that is null.
    /// </summary>
    private sealed class BreakingServer(int?[] bytesBeforeBreak) : HttpMessageHandler
    {
        public static readonly byte[] Audio = [.. Enumerable.Range(0, 2000).Select(i => (byte)i)];

        private int _requests;

        public int Requests => _requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var breakAt = bytesBeforeBreak[Interlocked.Increment(ref _requests) - 1];
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new BreakingStream(Audio, breakAt)) });
        }
    }

    private sealed class BreakingStream(byte[] audio, int? breakAt) : MemoryStream(audio)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (breakAt is { } at && Position >= at)
            {
                throw new IOException("connection reset");
            }

            var limit = breakAt is { } end ? (int)Math.Min(buffer.Length, end - Position) : buffer.Length;
            return base.ReadAsync(buffer[..limit], cancellationToken);
        }
    }

    private static ElevenLabsOptions Options(Uri baseUrl, string apiKey) =>
        new(apiKey, ElevenLabsOptions.DefaultVoiceId, ElevenLabsOptions.DefaultModelId, baseUrl, "es");

    private static ElevenLabsTextToSpeech Client(ElevenLabsEmulator emulator, string? apiKey = null) =>
        Client(Options(emulator.BaseUrl, apiKey ?? emulator.ApiKey));

    private static ElevenLabsTextToSpeech Client(ElevenLabsOptions options) =>
        new(new HttpClient(), options, TestTelemetry.Instance, TimeProvider.System, NullLogger<ElevenLabsTextToSpeech>.Instance);

    private static async Task<List<byte[]>> CollectAsync(ElevenLabsTextToSpeech client, string text, AudioFormat format)
    {
        var chunks = new List<byte[]>();
        await foreach (var chunk in client.SynthesizeAsync(text, format, Token))
        {
            chunks.Add(chunk.ToArray());
        }

        return chunks;
    }
}
