using TelnyxAiService.Calls;
using TelnyxAiService.Configuration;
using TelnyxAiService.Conversation;
using TelnyxAiService.Health;
using TelnyxAiService.Llm;
using TelnyxAiService.Speech;
using TelnyxAiService.Storage;
using TelnyxAiService.Telephony;
using TelnyxAiService.Telephony.Telnyx;
using TelnyxAiService.Voice;

DotEnvFile.Load(".env");

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults();

builder.Services
    .AddStorage()
    .AddTelephony()
    .AddRelayedWebhooks()
    .AddSpeech()
    .AddVoice()
    .AddLlm()
    .AddConversation()
    .AddCalls()
    .AddHealth();

var app = builder.Build();
if (!app.ValidateSettings())
{
    return 2;
}

app.UseApiKey();
app.MapHealth();
app.MapCalls();
app.MapCallHistory();
app.MapTelnyxWebhooks();
app.MapMediaStream();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to in-process tests.</summary>
public partial class Program;
