using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Emulators.ElevenLabs;
using TelnyxAiService.Emulators.Hosting;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Emulators.Telnyx.Media;

namespace TelnyxAiService.Tests.TestHost;

/// <summary>What a test wants around the service: emulator knobs and extra settings.</summary>
public sealed class HarnessOptions
{
    public bool MediaStreams { get; init; } = true;

    /// <summary>Speech, agent and voice by the offline engines (pocketsphinx, the rules agent, flite), not the emulators.</summary>
    public bool OfflineEngines { get; init; }

    public TelnyxEmulatorOptions Telnyx { get; init; } = new();

    public AnthropicEmulatorOptions Anthropic { get; init; } = new();

    public DeepgramEmulatorOptions Deepgram { get; init; } = new();

    public ElevenLabsEmulatorOptions ElevenLabs { get; init; } = new();

    /// <summary>The caller heard on media-stream calls.</summary>
    public Func<EmulatedCall, CallerScript>? Caller { get; init; }

    public Dictionary<string, string> Settings { get; init; } = [];

    /// <summary>Replaces or adds services after the service's own registrations (a failing part a vendor cannot be made to be).</summary>
    public Action<IServiceCollection>? Services { get; init; }
}

/// <summary>
/// The real service on a real loopback port, configured only through its settings to talk to the Telnyx, Anthropic,
/// Deepgram and ElevenLabs emulators, exactly as it would talk to the vendors.
/// </summary>
public sealed class ServiceHarness : IAsyncDisposable
{
    private ServiceHarness(TelnyxEmulator telnyx, AnthropicEmulator anthropic, DeepgramEmulator deepgram, ElevenLabsEmulator elevenLabs, StreamingCallee? callee, WebApplicationFactory<Program> factory, HttpClient client, Uri baseUrl, IReadOnlyDictionary<string, string> settings)
    {
        Settings = settings;
        BaseUrl = baseUrl;
        Telnyx = telnyx;
        Anthropic = anthropic;
        Deepgram = deepgram;
        ElevenLabs = elevenLabs;
        Callee = callee;
        Factory = factory;
        Client = client;
    }

    public TelnyxEmulator Telnyx { get; }

    public AnthropicEmulator Anthropic { get; }

    public DeepgramEmulator Deepgram { get; }

    public ElevenLabsEmulator ElevenLabs { get; }

    public StreamingCallee? Callee { get; }

    public WebApplicationFactory<Program> Factory { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => Factory.Services;

    /// <summary>The settings the service was started with.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>Where the service listens (http://127.0.0.1:port).</summary>
    public Uri BaseUrl { get; }

    public static async Task<ServiceHarness> StartAsync(HarnessOptions options, CancellationToken cancellationToken)
    {
        var telnyx = await TelnyxEmulator.StartAsync(options.Telnyx, cancellationToken);
        var anthropic = await AnthropicEmulator.StartAsync(options.Anthropic, cancellationToken);
        var deepgram = await DeepgramEmulator.StartAsync(options.Deepgram, cancellationToken);
        var elevenLabs = await ElevenLabsEmulator.StartAsync(options.ElevenLabs, cancellationToken);
        StreamingCallee? callee = null;
        if (options.Caller is { } caller)
        {
            callee = new StreamingCallee(caller);
            telnyx.MediaCallee = callee.RunAsync;
        }

        var port = ServiceProcess.FreePort();
        telnyx.DefaultWebhookUrl ??= new Uri($"http://127.0.0.1:{port}/webhook/telnyx");
        var settings = new Dictionary<string, string>(EmulatorSet.ServiceSettings(telnyx, options.OfflineEngines ? null : deepgram, options.OfflineEngines ? null : anthropic, options.OfflineEngines ? null : elevenLabs, new Uri($"http://127.0.0.1:{port}")))
        {
            ["USE_MEDIA_STREAMS"] = options.MediaStreams ? "true" : "false",
            ["AGENT_LANGUAGE"] = "en",
            ["DRAIN_SECONDS"] = "0",
            ["DATABASE_URL"] = $"sqlite:{Path.Combine(Path.GetTempPath(), $"telnyx-ai-test-{Guid.NewGuid():N}.db")}",
        };
        foreach (var (key, value) in options.Settings)
        {
            settings[key] = value;
        }

        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.UseUrls($"http://127.0.0.1:{port}");
            if (options.Services is { } services)
            {
                builder.ConfigureTestServices(services);
            }
        });
        factory.UseKestrel();
        factory.StartServer();
        var client = factory.CreateClient();
        return new ServiceHarness(telnyx, anthropic, deepgram, elevenLabs, callee, factory, client, new Uri($"http://127.0.0.1:{port}"), settings);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        await Telnyx.DisposeAsync();
        await Anthropic.DisposeAsync();
        await Deepgram.DisposeAsync();
        await ElevenLabs.DisposeAsync();
    }
}
