using TelnyxAiService.BrowserCalls;
using TelnyxAiService.CallEvents;
using TelnyxAiService.Calls;
using TelnyxAiService.Configuration;
using TelnyxAiService.Conversation;
using TelnyxAiService.Demo;
using TelnyxAiService.Failover;
using TelnyxAiService.Health;
using TelnyxAiService.LiveCalls;
using TelnyxAiService.Llm;
using TelnyxAiService.OperatorConsole;
using TelnyxAiService.Providers;
using TelnyxAiService.Recordings;
using TelnyxAiService.Security;
using TelnyxAiService.Speech;
using TelnyxAiService.Storage;
using TelnyxAiService.Telemetry;
using TelnyxAiService.Telephony;
using TelnyxAiService.Telephony.Telnyx;
using TelnyxAiService.Voice;

if (args is ["emulate", ..])
{
    return await EmulateCommand.RunAsync(args[1..]);
}

if (args is ["demo", ..])
{
    return await DemoCommand.RunAsync(args[1..]);
}

DotEnvFile.Load(".env");

WebApplication app;
try
{
    var builder = WebApplication.CreateSlimBuilder(args);
    builder.AddServiceDefaults();
    builder.AddTelemetry();

    builder.Services
        .AddSecurity()
        .AddStorage()
        .AddTelephony()
        .AddRelayedWebhooks()
        .AddSpeech()
        .AddVoice()
        .AddLlm()
        .AddConversation()
        .AddLiveCalls()
        .AddCalls()
        .AddBrowserCalls()
        .AddFailover()
        .AddRecordings()
        .AddCallEvents()
        .AddHealth();

    app = builder.Build();
    if (!app.ReportProviders())
    {
        return 2;
    }

    app.ValidateSettings();
}
catch (InvalidSettingException e)
{
    Console.Error.WriteLine($"Configuration error: {e.Message}");
    return 2;
}

app.ReportApiAccess();
app.UseExceptionHandler();
app.UseCleanRefusals();
app.UseRequestTimeouts();
app.MapHealth();
app.MapCalls();
app.MapCallHistory();
app.MapLiveCalls();
app.MapTelnyxWebhooks();
app.MapMediaStream();
app.MapBrowserCalls();
app.MapMetrics();
app.MapOperatorConsole();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to in-process tests.</summary>
public partial class Program;
