using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Emulators.ElevenLabs;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Emulators.Telnyx.Media;

namespace TelnyxAiService.Emulators.Hosting;

/// <summary>
/// Who answers the emulated calls. <paramref name="Lines"/> is what the callee says: as Telnyx transcription events on
/// Call Control calls, and as the Deepgram emulator's transcripts (each connection reads them from the start).
/// <paramref name="MediaScript"/> is the caller played on media-stream calls (null: such calls get no media callee).
/// </summary>
public sealed record EmulatedCallee(IReadOnlyList<string> Lines, Func<EmulatedCall, CallerScript>? MediaScript);

/// <summary>
/// The Telnyx emulator alone, or with the Deepgram, Anthropic and ElevenLabs emulators, on loopback, configured from
/// <see cref="EmulatorKnobs"/>; <see cref="Environment"/> gives the settings that point the service at them.
/// </summary>
public sealed class EmulatorSet : IAsyncDisposable
{
    /// <summary>The Call Control application id and caller number the emulator accepts (any value would do).</summary>
    public const string ConnectionId = "1494404757140276705";

    public const string PhoneNumber = "+15550100000";

    private EmulatorSet(TelnyxEmulator telnyx, StreamingCallee? callee, DeepgramEmulator? deepgram, AnthropicEmulator? anthropic, ElevenLabsEmulator? elevenLabs)
    {
        Telnyx = telnyx;
        Callee = callee;
        Deepgram = deepgram;
        Anthropic = anthropic;
        ElevenLabs = elevenLabs;
    }

    public TelnyxEmulator Telnyx { get; }

    /// <summary>The media-stream callee, whose recordings hold each call's audio; null without a media script.</summary>
    public StreamingCallee? Callee { get; }

    public DeepgramEmulator? Deepgram { get; }

    public AnthropicEmulator? Anthropic { get; }

    public ElevenLabsEmulator? ElevenLabs { get; }

    /// <param name="vendors">Also start the Deepgram, Anthropic and ElevenLabs emulators.</param>
    public static async Task<EmulatorSet> StartAsync(EmulatorKnobs knobs, EmulatedCallee callee, bool vendors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(knobs);
        ArgumentNullException.ThrowIfNull(callee);
        int Port(int offset) => knobs.PortBase == 0 ? 0 : knobs.PortBase + offset;

        var telnyx = await TelnyxEmulator.StartAsync(
            new TelnyxEmulatorOptions
            {
                Port = Port(0),
                Callee = new CalleeScript { AnswerAfter = knobs.TelnyxAnswerAfter, Lines = callee.Lines },
                MaxCallDuration = knobs.TelnyxMaxCall,
                RequestsPerSecond = knobs.TelnyxRequestsPerSecond,
                DuplicateWebhooks = knobs.TelnyxDuplicateWebhooks,
                ReorderWebhooks = knobs.TelnyxReorderWebhooks,
            },
            cancellationToken);
        if (knobs.TelnyxFailDials > 0)
        {
            telnyx.FailNextDials(knobs.TelnyxFailDials);
        }

        StreamingCallee? streaming = null;
        if (callee.MediaScript is { } script)
        {
            streaming = new StreamingCallee(script);
            telnyx.MediaCallee = streaming.RunAsync;
        }

        if (!vendors)
        {
            return new EmulatorSet(telnyx, streaming, null, null, null);
        }

        var deepgram = await DeepgramEmulator.StartAsync(
            new DeepgramEmulatorOptions
            {
                Port = Port(1),
                ScriptForConnection = _ => callee.Lines,
                FinalDelay = knobs.DeepgramFinalDelay,
                DropConnectionAfter = knobs.DeepgramDropAfter,
                UnavailableHandshakes = Enumerable.Range(0, knobs.DeepgramUnavailableHandshakes).ToHashSet(),
            },
            cancellationToken);
        var anthropic = await AnthropicEmulator.StartAsync(
            new AnthropicEmulatorOptions
            {
                Port = Port(2),
                TimeToFirstToken = knobs.AnthropicTimeToFirstToken,
                TokensPerSecond = knobs.AnthropicTokensPerSecond,
            },
            cancellationToken);
        for (var i = 0; i < knobs.AnthropicFailures; i++)
        {
            anthropic.EnqueueFault(new AnthropicFault.Http429(1));
        }

        var elevenLabs = await ElevenLabsEmulator.StartAsync(
            new ElevenLabsEmulatorOptions
            {
                Port = Port(3),
                TimeToFirstByte = knobs.ElevenLabsTimeToFirstByte,
                RealtimeFactor = knobs.ElevenLabsRealtimeFactor,
            },
            cancellationToken);
        if (knobs.ElevenLabsFailures > 0)
        {
            elevenLabs.FailNext(ElevenLabsFault.Http500, knobs.ElevenLabsFailures);
        }

        return new EmulatorSet(telnyx, streaming, deepgram, anthropic, elevenLabs);
    }

    /// <summary>
    /// The service's settings for these emulators, in a stable order: Telnyx first, then each vendor that runs.
    /// <paramref name="webhookBaseUrl"/> is where the service itself listens (WEBHOOK_BASE_URL).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Environment(Uri webhookBaseUrl) =>
        ServiceSettings(Telnyx, Deepgram, Anthropic, ElevenLabs, webhookBaseUrl);

    /// <summary>The settings that point the service at these emulators (the one place that knows their names).</summary>
    public static List<KeyValuePair<string, string>> ServiceSettings(
        TelnyxEmulator telnyx, DeepgramEmulator? deepgram, AnthropicEmulator? anthropic, ElevenLabsEmulator? elevenLabs, Uri webhookBaseUrl)
    {
        ArgumentNullException.ThrowIfNull(telnyx);
        ArgumentNullException.ThrowIfNull(webhookBaseUrl);
        var settings = new List<KeyValuePair<string, string>>
        {
            new("TELNYX_API_BASE_URL", telnyx.ApiBaseUrl.ToString()),
            new("TELNYX_API_KEY", telnyx.ApiKey),
            new("TELNYX_PUBLIC_KEY", telnyx.PublicKeyBase64),
            new("TELNYX_CONNECTION_ID", ConnectionId),
            new("TELNYX_PHONE_NUMBER", PhoneNumber),
            new("WEBHOOK_BASE_URL", webhookBaseUrl.ToString().TrimEnd('/')),
        };
        if (deepgram is not null)
        {
            settings.Add(new("DEEPGRAM_URL", deepgram.ListenUrl.ToString()));
            settings.Add(new("DEEPGRAM_API_KEY", deepgram.ApiKey));
        }

        if (anthropic is not null)
        {
            settings.Add(new("ANTHROPIC_BASE_URL", anthropic.BaseUrl.ToString().TrimEnd('/')));
            settings.Add(new("ANTHROPIC_API_KEY", anthropic.ApiKey));
        }

        if (elevenLabs is not null)
        {
            settings.Add(new("ELEVENLABS_BASE_URL", elevenLabs.BaseUrl.ToString().TrimEnd('/')));
            settings.Add(new("ELEVENLABS_API_KEY", elevenLabs.ApiKey));
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        await Telnyx.DisposeAsync();
        if (Deepgram is not null)
        {
            await Deepgram.DisposeAsync();
        }

        if (Anthropic is not null)
        {
            await Anthropic.DisposeAsync();
        }

        if (ElevenLabs is not null)
        {
            await ElevenLabs.DisposeAsync();
        }
    }
}
