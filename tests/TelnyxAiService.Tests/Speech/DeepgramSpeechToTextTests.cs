using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TelnyxAiService.Audio;
using TelnyxAiService.Configuration;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Providers;
using TelnyxAiService.Speech;
using TelnyxAiService.Speech.Deepgram;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Speech.PacedCallerAudio;

namespace TelnyxAiService.Tests.Speech;

public sealed class DeepgramSpeechToTextTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Transcribe_SpokenLine_YieldsSpeechStartedInterimsFinalThenUtteranceEnd()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(new() { Segments = ["I would like to book a table."] }, Token);

        var events = await TranscribeAsync(emulator, AudioFormat.Pcmu8k, [Quiet(300), Say("I would like to book a table"), Quiet(1500)]);

        var started = events.FindIndex(e => e is SpeechStarted);
        var firstInterim = events.FindIndex(e => e is TranscriptUpdate { IsFinal: false });
        var final = events.FindIndex(e => e is TranscriptUpdate { IsFinal: true });
        var utteranceEnd = events.FindIndex(e => e is UtteranceEnded);
        Assert.True(started >= 0 && started < firstInterim && firstInterim < final && final < utteranceEnd, string.Join(", ", events));
        Assert.Equal(new TranscriptUpdate("I would like to book a table.", true, true), events[final]);
        Assert.All(events.OfType<TranscriptUpdate>().Where(u => !u.IsFinal), u => Assert.StartsWith("I", u.Text));
        Assert.Single(events.OfType<TranscriptUpdate>(), u => u.IsFinal);
    }

    [Fact]
    public async Task Transcribe_TwoLinesSeparatedBySilence_YieldsTwoTurns()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(new() { Segments = ["Hello there.", "I need a table for two."] }, Token);

        var events = await TranscribeAsync(emulator, AudioFormat.Pcmu8k, [Say("Hello there"), Quiet(1200), Say("I need a table for two"), Quiet(1200)]);

        Assert.Equal(2, events.Count(e => e is SpeechStarted));
        Assert.Equal(2, events.Count(e => e is UtteranceEnded));
        Assert.Equal(
            ["Hello there.", "I need a table for two."],
            events.OfType<TranscriptUpdate>().Where(u => u.SpeechFinal).Select(u => u.Text));
        Assert.Single(emulator.Connections);
    }

    [Theory]
    [InlineData("PCMU", 8000, "mulaw")]
    [InlineData("PCMA", 8000, "alaw")]
    [InlineData("L16", 16000, "linear16")]
    public async Task Transcribe_AnyFormat_SendsQueryAndTokenAndIsTranscribed(string codec, int sampleRate, string encoding)
    {
        await using var emulator = await DeepgramEmulator.StartAsync(new() { Segments = ["Hola."] }, Token);
        var format = new AudioFormat(Enum.Parse<AudioEncoding>(codec, ignoreCase: true), sampleRate);

        var events = await TranscribeAsync(emulator, format, [Say("Hola"), Quiet(500)]);

        Assert.Contains(new TranscriptUpdate("Hola.", true, true), events);
        var connection = Assert.Single(emulator.Connections);
        Assert.Equal($"Token {emulator.ApiKey}", connection.Headers["Authorization"]);
        Assert.Equal(
            $"?model=nova-3&language=es&encoding={encoding}&sample_rate={sampleRate}&channels=1&interim_results=true" +
            "&endpointing=300&utterance_end_ms=1000&vad_events=true&smart_format=true&punctuate=true",
            connection.QueryString);
        Assert.Equal(PacedCallerAudio.TotalBytes(format, [Say("Hola"), Quiet(500)]), connection.BytesReceived);
        Assert.Equal(["Finalize", "CloseStream"], connection.ControlMessages.Select(m => m.Type));
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, connection.CloseStatus);
    }

    [Fact]
    public async Task Transcribe_AudioPausesLongerThanIdleTimeout_SendsKeepAliveAndKeepsConnection()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(
            new() { Segments = ["Still there?"], IdleTimeout = TimeSpan.FromSeconds(2) },
            Token);

        var events = await TranscribeAsync(
            emulator,
            AudioFormat.Pcmu8k,
            [Quiet(200), new Pause(TimeSpan.FromMilliseconds(3000)), Say("Still there"), Quiet(500)],
            keepAliveInterval: TimeSpan.FromMilliseconds(400));

        Assert.Contains(new TranscriptUpdate("Still there?", true, true), events);
        var connection = Assert.Single(emulator.Connections);
        var keepAlivesInPause = connection.ControlMessages.Count(m => m.Type == "KeepAlive" && m.AudioTime == TimeSpan.FromMilliseconds(200));
        Assert.True(keepAlivesInPause >= 4, $"{keepAlivesInPause} KeepAlive messages during the pause");
    }

    [Fact]
    public async Task Transcribe_WrongApiKey_ThrowsNotRetryable()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(cancellationToken: Token);
        var stt = Client(Options(emulator) with { ApiKey = "wrong" });

        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var _ in stt.TranscribeAsync(AudioFormat.Pcmu8k, PlayAsync(AudioFormat.Pcmu8k, [Quiet(2000)], Token), Token))
            {
            }
        });

        Assert.False(error.Retryable);
        Assert.Equal("deepgram", error.Provider);
        Assert.Contains("401", error.Message);
        Assert.Empty(emulator.Connections);
    }

    [Fact]
    public async Task Transcribe_Cancelled_ThrowsAndClosesTheConnection()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(cancellationToken: Token);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var stt = Client(Options(emulator));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in stt.TranscribeAsync(AudioFormat.Pcmu8k, PlayAsync(AudioFormat.Pcmu8k, [Say("hello"), Quiet(20_000)], cancel.Token), cancel.Token))
            {
                await cancel.CancelAsync();
            }
        });

        await Assert.Single(emulator.Connections).Ended.WaitAsync(TimeSpan.FromSeconds(10), Token);
    }

    [Fact]
    public void Parse_RecordedMessages_YieldsSpeechEvents()
    {
        Assert.Equal(new TranscriptUpdate("Paris at a moment", false, false), DeepgramMessages.Parse(Fixture("results_interim.recorded.json")));
        Assert.Equal(new TranscriptUpdate("Paris at a moment's notice.", true, true), DeepgramMessages.Parse(Fixture("results_is_final_speech_final.recorded.json")));
        Assert.IsType<SpeechStarted>(DeepgramMessages.Parse(Fixture("speech_started.constructed.json")));
        Assert.IsType<UtteranceEnded>(DeepgramMessages.Parse("""{"type":"UtteranceEnd","channel":[0,1],"last_word_end":8.8}"""u8.ToArray()));
        Assert.Null(DeepgramMessages.Parse(Fixture("metadata.constructed.json")));
        Assert.Throws<System.Text.Json.JsonException>(() => DeepgramMessages.Parse("""{"type":"Results"}"""u8.ToArray()));
    }

    [Fact]
    public void Read_OnlyKey_UsesDefaults()
    {
        var options = DeepgramOptions.Read(Settings(new() { ["DEEPGRAM_API_KEY"] = "k" }));

        Assert.Equal(new DeepgramOptions("k", new Uri("wss://api.deepgram.com/v1/listen"), "nova-3", "es", 300, 1000), options);
        Assert.Equal(ProviderMode.Vendor, options.ProviderInfo.Mode);
    }

    [Theory]
    [InlineData("DEEPGRAM_URL", "https://api.deepgram.com/v1/listen")]
    [InlineData("DEEPGRAM_ENDPOINTING_MS", "soon")]
    [InlineData("DEEPGRAM_UTTERANCE_END_MS", "500")]
    public void Read_BadValue_NamesTheSetting(string name, string value)
    {
        var error = Assert.Throws<InvalidSettingException>(() => DeepgramOptions.Read(Settings(new() { [name] = value })));

        Assert.Equal(name, error.Name);
    }

    [Fact]
    public void AddSpeech_KeySet_RegistersDeepgramAndEmulatorProviderInfo()
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(TimeProvider.System)
            .AddSingleton(TestTelemetry.Instance)
            .AddSingleton(Settings(new() { ["DEEPGRAM_API_KEY"] = "k", ["DEEPGRAM_URL"] = "ws://127.0.0.1:5005" }))
            .AddSpeech()
            .BuildServiceProvider();

        Assert.IsType<DeepgramSpeechToText>(services.GetRequiredService<ISpeechToText>());
        Assert.Equal(
            new ProviderInfo("speech-to-text", "deepgram", ProviderMode.Emulator, new Uri("ws://127.0.0.1:5005/v1/listen")),
            services.GetRequiredService<ProviderInfo>());
    }

    internal static DeepgramOptions Options(DeepgramEmulator emulator) =>
        new(emulator.ApiKey, emulator.ListenUrl, "nova-3", "es", 300, 1000);

    internal static DeepgramSpeechToText Client(DeepgramOptions options) =>
        new(options, TestTelemetry.Instance, TimeProvider.System, NullLogger<DeepgramSpeechToText>.Instance);

    internal static async Task<List<SpeechEvent>> TranscribeAsync(
        DeepgramEmulator emulator,
        AudioFormat format,
        IReadOnlyList<Part> audio,
        TimeSpan? keepAliveInterval = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var options = Options(emulator);
        var stt = Client(keepAliveInterval is { } interval ? options with { KeepAliveInterval = interval } : options);
        var events = new List<SpeechEvent>();
        await foreach (var speechEvent in stt.TranscribeAsync(format, PlayAsync(format, audio, timeout.Token), timeout.Token))
        {
            events.Add(speechEvent);
        }

        return events;
    }

    private static SettingsReader Settings(Dictionary<string, string?> values) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "deepgram", name));
}
