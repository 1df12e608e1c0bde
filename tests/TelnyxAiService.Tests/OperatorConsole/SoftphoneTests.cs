using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using TelnyxAiService.Tests.TestHost;
using static Microsoft.Playwright.Assertions;

namespace TelnyxAiService.Tests.OperatorConsole;

/// <summary>
/// "Talk to the agent" in Chromium, its fake microphone playing a flite WAV, against the service on its offline
/// engines (pocketsphinx, the rules agent, flite): the greeting, the answer to what the WAV says, and "Hang up".
/// </summary>
public sealed class SoftphoneTests : IDisposable
{
    private const string Greeting = "Hello, this is the Riverside Clinic. How can I help you?";
    private const string Asked = "What are your opening hours?";
    private const string HoursAnswer = "We are open Monday to Friday";

    private readonly string directory = Directory.CreateTempSubdirectory("telnyx-ai-softphone-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task TalkToTheAgent_FakeMicrophone_GreetingAndAnswerOnThePage_HangUpStoresABrowserCall()
    {
        SetDefaultExpectTimeout(20_000);
        var microphone = await SpeechWavAsync(Asked);
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions { OfflineEngines = true, Settings = { ["INBOUND_GREETING"] = Greeting } },
            Ct);
        await using var browser = await ConsoleBrowser.OpenAsync(harness.BaseUrl, microphone);
        var page = browser.Page;
        await page.GotoAsync("/");

        await page.GetByRole(AriaRole.Button, new() { Name = "Talk to the agent" }).ClickAsync();
        var call = page.Locator("#talk-call .call-card");
        await Expect(call.Locator(".line.agent").First).ToContainTextAsync("Riverside Clinic");
        await Expect(call.Locator(".line.caller").First).ToContainTextAsync("opening hours");
        var answer = call.Locator(".line.agent").Nth(1);
        await Expect(answer).ToContainTextAsync(HoursAnswer);
        await browser.ScreenshotAsync("console-softphone.png");

        // The answer's latency segments add up to its voice-to-voice total, a speculative answer's early stages included
        // (each stage is rounded to the millisecond on its own).
        var segments = await answer.Locator(".latency .stage").EvaluateAllAsync<int[]>("nodes => nodes.map(n => Number(n.dataset.ms))");
        var total = int.Parse((await answer.Locator(".latency .total").InnerTextAsync()).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(segments.Sum(), total - 3, total + 3);
        var callId = await call.GetAttributeAsync("data-call");

        await page.GetByRole(AriaRole.Button, new() { Name = "Hang up" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Talk to the agent" })).ToBeEnabledAsync();
        JsonElement stored = default;
        await Wait.UntilAsync(
            async () =>
            {
                stored = (await harness.Client.GetFromJsonAsync<JsonElement>($"/api/calls/{callId}", Ct)).GetProperty("call");
                return stored.TryGetProperty("ended_at", out var ended) && ended.ValueKind == JsonValueKind.String;
            },
            "the browser call to be stored as ended");
        Assert.Equal("browser", stored.GetProperty("direction").GetString());
    }

    /// <summary>
    /// The sentence spoken by flite after 7 s of silence (the greeting plays first), then 30 s of silence, as Chromium
    /// loops the file. A 16 kHz voice: flite's default (kal) is 8 kHz, nothing above 4 kHz, which pocketsphinx's wideband
    /// model mishears until its cepstral mean has adapted over a first utterance.
    /// </summary>
    private async Task<string> SpeechWavAsync(string sentence)
    {
        var spoken = Path.Combine(directory, "spoken.wav");
        var padded = Path.Combine(directory, "microphone.wav");
        await RunAsync("flite", "-voice", "slt", "-t", sentence, "-o", spoken);
        await RunAsync("sox", spoken, "-r", "16000", "-c", "1", padded, "pad", "7", "30");
        return padded;
    }

    private static async Task RunAsync(string command, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
        var errors = await process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, $"{command} failed: {errors}");
    }
}
