using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Configuration;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Telephony;
using TelnyxAiService.Telephony.Telnyx;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Telephony;

/// <summary>The real Call Control client, registered as the service registers it, against the Telnyx emulator.</summary>
internal sealed class TelnyxHarness : IAsyncDisposable
{
    public const string ConnectionId = "2811212257810187875";
    public const string OurNumber = "+13057864498";

    private readonly ServiceProvider _services;

    private TelnyxHarness(TelnyxEmulator emulator, WebhookReceiver receiver, ServiceProvider services)
    {
        Emulator = emulator;
        Receiver = receiver;
        _services = services;
        CallControl = services.GetRequiredService<ICallControl>();
    }

    public TelnyxEmulator Emulator { get; }

    public WebhookReceiver Receiver { get; }

    public ICallControl CallControl { get; }

    public static async Task<TelnyxHarness> StartAsync(
        TelnyxEmulatorOptions? options = null,
        int failWebhooks = 0,
        string? apiKey = null,
        Dictionary<string, string?>? settings = null,
        TimeProvider? time = null)
    {
        var receiver = await WebhookReceiver.StartAsync(failWebhooks);
        var emulator = await TelnyxEmulator.StartAsync(options ?? new TelnyxEmulatorOptions(), TestContext.Current.CancellationToken);
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(time ?? TimeProvider.System)
            .AddSingleton(TestTelemetry.Instance)
            .AddSingleton(new SettingsReader(new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build()))
            .AddSingleton(new TelnyxOptions(apiKey ?? emulator.ApiKey, ConnectionId, OurNumber, emulator.ApiBaseUrl, receiver.WebhookBaseUrl, null, true, false))
            .AddTelnyxCallControl()
            .BuildServiceProvider();
        return new TelnyxHarness(emulator, receiver, services);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Emulator.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}
