using TelnyxAiService.Calls;
using TelnyxAiService.Configuration;
using TelnyxAiService.Conversation;
using TelnyxAiService.Demo;
using TelnyxAiService.Health;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;
using TelnyxAiService.Speech;
using TelnyxAiService.Telephony;
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

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults();

builder.Services
    .AddTelephony()
    .AddSpeech()
    .AddVoice()
    .AddLlm()
    .AddConversation()
    .AddCalls()
    .AddHealth();

var app = builder.Build();
if (!app.ValidateSettings() || !app.ReportProviders())
{
    return 2;
}

app.UseApiKey();
app.MapHealth();
app.MapCalls();
app.MapTelnyxWebhooks();
app.MapMediaStream();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to in-process tests.</summary>
public partial class Program;
