using System.Globalization;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Emulators.ElevenLabs;
using TelnyxAiService.Emulators.Hosting;
using TelnyxAiService.Emulators.S3;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Emulators.Telnyx.Media;

namespace TelnyxAiService.Bench;

/// <summary>The vendors' delays the emulators are set to; the defaults are the vendors' published medians.</summary>
internal sealed record Delays(int EndpointingMs, int DeepgramFinalDelayMs, int ClaudeTtftMs, double ClaudeTokensPerSecond, int TtsTtfbMs, double TtsRealtimeFactor)
{
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"Deepgram endpointing={EndpointingMs} ms (audio time) + FinalDelay={DeepgramFinalDelayMs} ms; Claude TTFT={ClaudeTtftMs} ms at {ClaudeTokensPerSecond} tokens/s; ElevenLabs TTFB={TtsTtfbMs} ms, audio made {TtsRealtimeFactor}x real time");

    /// <summary>
    /// What the vendors alone take from the caller's last speech frame to the first agent audio byte, for a reply whose
    /// first speakable chunk ends after <paramref name="firstChunkTokens"/> streamed tokens: end of turn, first token,
    /// the tokens up to the chunk's end, first TTS byte.
    /// </summary>
    public double VendorMs(int firstChunkTokens) =>
        EndpointingMs + DeepgramFinalDelayMs + ClaudeTtftMs + ((firstChunkTokens - 1) * 1000 / ClaudeTokensPerSecond) + TtsTtfbMs;
}

/// <summary>The four vendor emulators (and an S3 store) as the load generator hosts them, and the settings that point the service at them.</summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    private BenchEnvironment(TelnyxEmulator telnyx, AnthropicEmulator anthropic, DeepgramEmulator deepgram, ElevenLabsEmulator elevenLabs, S3Emulator s3, StreamingCallee? callee)
    {
        Telnyx = telnyx;
        Anthropic = anthropic;
        Deepgram = deepgram;
        ElevenLabs = elevenLabs;
        S3 = s3;
        Callee = callee;
    }

    public TelnyxEmulator Telnyx { get; }

    public AnthropicEmulator Anthropic { get; }

    public DeepgramEmulator Deepgram { get; }

    public ElevenLabsEmulator ElevenLabs { get; }

    public S3Emulator S3 { get; }

    public StreamingCallee? Callee { get; }

    public static async Task<BenchEnvironment> StartAsync(
        Delays delays,
        IReadOnlyList<string> callerLines,
        string reply,
        Func<EmulatedCall, CallerScript>? caller,
        CalleeScript? callee,
        CancellationToken cancellationToken)
    {
        var telnyx = await TelnyxEmulator.StartAsync(new TelnyxEmulatorOptions { Callee = callee ?? new CalleeScript() }, cancellationToken);
        var anthropic = await AnthropicEmulator.StartAsync(
            new AnthropicEmulatorOptions
            {
                TimeToFirstToken = TimeSpan.FromMilliseconds(delays.ClaudeTtftMs),
                TokensPerSecond = delays.ClaudeTokensPerSecond,
                Reply = _ => new ScriptedReply(reply),
            },
            cancellationToken);
        var deepgram = await DeepgramEmulator.StartAsync(
            new DeepgramEmulatorOptions
            {
                ScriptForConnection = _ => callerLines,
                FinalDelay = TimeSpan.FromMilliseconds(delays.DeepgramFinalDelayMs),
                IdleTimeout = TimeSpan.FromSeconds(60),
            },
            cancellationToken);
        var elevenLabs = await ElevenLabsEmulator.StartAsync(
            new ElevenLabsEmulatorOptions
            {
                TimeToFirstByte = TimeSpan.FromMilliseconds(delays.TtsTtfbMs),
                RealtimeFactor = delays.TtsRealtimeFactor,
            },
            cancellationToken);
        var s3 = await S3Emulator.StartAsync(cancellationToken: cancellationToken);
        StreamingCallee? streaming = null;
        if (caller is not null)
        {
            streaming = new StreamingCallee(caller);
            telnyx.MediaCallee = streaming.RunAsync;
        }

        return new BenchEnvironment(telnyx, anthropic, deepgram, elevenLabs, s3, streaming);
    }

    /// <summary>The service's settings for these emulators, as a deployment would set them in the environment.</summary>
    public Dictionary<string, string> ServiceSettings(int port, bool mediaStreams, int endpointingMs) =>
        new(EmulatorSet.ServiceSettings(Telnyx, Deepgram, Anthropic, ElevenLabs, new Uri($"http://127.0.0.1:{port}")))
        {
            ["USE_MEDIA_STREAMS"] = mediaStreams ? "true" : "false",
            ["DEEPGRAM_ENDPOINTING_MS"] = endpointingMs.ToString(CultureInfo.InvariantCulture),
            ["AGENT_LANGUAGE"] = "en",

            // The benchmarks measure how many calls the service carries, not its spend guard.
            ["MAX_CONCURRENT_CALLS"] = "1000",
        };

    public async ValueTask DisposeAsync()
    {
        await Telnyx.DisposeAsync();
        await Anthropic.DisposeAsync();
        await Deepgram.DisposeAsync();
        await ElevenLabs.DisposeAsync();
        await S3.DisposeAsync();
    }
}
