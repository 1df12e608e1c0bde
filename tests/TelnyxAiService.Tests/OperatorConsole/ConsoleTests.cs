using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Tests.Api;
using TelnyxAiService.Tests.Recordings;
using TelnyxAiService.Tests.TestHost;
using static Microsoft.Playwright.Assertions;
using static TelnyxAiService.Tests.Conversation.BargeInScript;
using static TelnyxAiService.Tests.Conversation.MediaStreamCallTests;

namespace TelnyxAiService.Tests.OperatorConsole;

/// <summary>The operator console in Debian's Chromium against the real service and the vendor emulators.</summary>
public sealed class ConsoleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    static ConsoleTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task Page_IsServedWithItsAssets_StrictHeaders_AndRevalidatedByETag()
    {
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions { Settings = { ["API_KEY"] = "console-secret" } }, Ct);

        using var page = await harness.Client.GetAsync("/", Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var csp = string.Join(' ', page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("/console/console.js", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        foreach (var (file, type) in new[] { ("console.js", "text/javascript"), ("console.css", "text/css"), ("playback-worklet.js", "text/javascript") })
        {
            using var asset = await harness.Client.GetAsync($"/console/{file}", Ct);
            Assert.Equal((HttpStatusCode.OK, type), (asset.StatusCode, asset.Content.Headers.ContentType?.MediaType));
            using var again = new HttpRequestMessage(HttpMethod.Get, $"/console/{file}");
            again.Headers.IfNoneMatch.Add(asset.Headers.ETag!);
            using var revalidated = await harness.Client.SendAsync(again, Ct);
            Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        }

        using var missing = await harness.Client.GetAsync("/console/nothing.js", Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task LiveView_CallPlacedThroughTheApi_ShowsItsWordsAsTheyHappen_ThenItsEnd()
    {
        await using var harness = await ServiceHarness.StartAsync(Harness(), Ct);
        await using var browser = await ConsoleBrowser.OpenAsync(harness.BaseUrl);
        var page = browser.Page;
        await page.GotoAsync("/");
        await Expect(page.Locator("#feed-status")).ToHaveTextAsync("Live");

        var calling = CallAsync(harness);
        var card = page.Locator(".call-card", new() { HasText = "+34600111222" });
        await Expect(card).ToContainTextAsync("Ana");
        await Expect(card.Locator(".line.caller", new() { HasText = Question })).ToBeVisibleAsync();
        Assert.False(calling.IsCompleted, "the caller's line was shown while the call was live");
        await Expect(card.Locator(".badge")).Not.ToContainTextAsync("Ended");

        // The cut reply is marked where the caller cut in, and its latency is split by stage.
        var cut = card.Locator(".line.agent.interrupted");
        await Expect(cut).ToContainTextAsync(FirstSentence);
        await Expect(cut.Locator(".cut")).ToBeVisibleAsync();
        await Expect(cut.Locator(".latency .stage").First).ToBeVisibleAsync();
        await Expect(cut.Locator(".latency .total")).ToContainTextAsync("ms");
        await browser.ScreenshotAsync("console-live.png");

        await Expect(card.Locator(".line.agent", new() { HasText = Cancelled })).ToBeVisibleAsync();
        await calling;
        await Expect(card.Locator(".badge")).ToHaveTextAsync("Ended · completed");

        // The call's page: its transcript and a latency waterfall row per timed agent turn.
        await card.GetByRole(AriaRole.Link, new() { Name = "+34600111222" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Call with Ana" })).ToBeVisibleAsync();
        await Expect(page.Locator(".transcript .line.agent.interrupted")).ToContainTextAsync(FirstSentence);
        await Expect(page.Locator(".waterfall li").First).ToContainTextAsync("Turn");
    }

    [Fact]
    public async Task CallPage_RecordingKeptOnS3_PlaysInThePageFromTheService()
    {
        await using var s3 = await S3rverProcess.StartAsync("recordings", Ct);
        await using var harness = await ServiceHarness.StartAsync(RecordingEndpointTests.CallOptions(s3), Ct);
        var callId = await RecordingEndpointTests.CallAsync(harness);
        await RecordingEndpointTests.WaitForRecordingAsync(harness, callId);

        await using var browser = await ConsoleBrowser.OpenAsync(harness.BaseUrl);
        var page = browser.Page;
        await page.GotoAsync($"/#/calls/{callId}");
        var audio = page.GetByLabel("Call recording");
        await Expect(audio).ToHaveAttributeAsync("src", new Regex("^blob:"));
        var seconds = await audio.EvaluateAsync<double>(
            "a => a.readyState >= 1 ? a.duration : new Promise((done, failed) => { a.onloadedmetadata = () => done(a.duration); a.onerror = () => failed(a.error.message); })");
        Assert.True(seconds > 3, $"the page decoded {seconds} s of the call");
        Assert.DoesNotContain(browser.RequestedUrls, url => url.StartsWith(s3.Endpoint.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Campaigns_CsvUploadedThroughThePage_BadRowReportedByLine_ThenProgressToDone()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                MediaStreams = false,
                Telnyx = new TelnyxEmulatorOptions
                {
                    Callee = new CalleeScript { AnswerAfter = TimeSpan.FromMilliseconds(20), Lines = ["Yes, that works for me"] },
                    SpeakTimePerCharacter = TimeSpan.FromMilliseconds(1),
                    LineDelay = TimeSpan.FromMilliseconds(20),
                    InterimTranscripts = false,
                },
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply("Great, see you then.") },
            },
            Ct);
        var directory = Directory.CreateTempSubdirectory("telnyx-ai-console-").FullName;
        await using var browser = await ConsoleBrowser.OpenAsync(harness.BaseUrl);
        var page = browser.Page;
        await page.GotoAsync("/#/campaigns");

        var bad = Path.Combine(directory, "bad.csv");
        await File.WriteAllTextAsync(bad, "telefono,nombre\n+34600000001,Ana\nnot a number,Luis\n", Ct);
        await page.GetByLabel("CSV file").SetInputFilesAsync(bad);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start campaign" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Line 3 (telefono)");

        var good = Path.Combine(directory, "good.csv");
        await File.WriteAllTextAsync(good, "phone,name\n+34600000001,Ana\n+34600000002,Luis\n+34600000003,Marta\n", Ct);
        await page.GetByLabel("CSV file").SetInputFilesAsync(good);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start campaign" }).ClickAsync();
        await Expect(page.Locator("#progress-label")).ToHaveTextAsync("3 of 3 numbers done · finished", new() { Timeout = 60_000 });
        await Expect(page.Locator("progress")).ToHaveAttributeAsync("value", "3");
        var rows = page.Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(3);
        foreach (var row in await rows.AllAsync())
        {
            await Expect(row).ToContainTextAsync("completed");
        }

        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel campaign" })).ToBeDisabledAsync();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task ApiKey_AskedOnceInTheField_ThenDataShown_AndNeverInAUrl()
    {
        const string Key = "console-secret-7f3a";
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions { Settings = { ["API_KEY"] = Key } }, Ct);
        harness.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var placed = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600999888", nombre = "Berta" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, placed.StatusCode);

        await using var browser = await ConsoleBrowser.OpenAsync(harness.BaseUrl);
        var page = browser.Page;
        var authorized = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Headers.TryGetValue("authorization", out var value))
            {
                lock (authorized)
                {
                    authorized.Add(value);
                }
            }
        };
        await page.GotoAsync("/#/history");
        var field = page.GetByLabel("API key");
        await Expect(field).ToBeVisibleAsync();
        await field.FillAsync(Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "+34600999888" })).ToBeVisibleAsync();
        await Expect(field).ToBeHiddenAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "+34600999888" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Call with Berta" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Live calls" }).ClickAsync();
        await Expect(page.Locator("#feed-status")).ToHaveTextAsync("Live");
        await Expect(field).ToBeHiddenAsync();

        Assert.Contains(browser.RequestedUrls, url => url.Contains("/api/calls", StringComparison.Ordinal));
        Assert.All(browser.RequestedUrls, url => Assert.DoesNotContain(Key, Uri.UnescapeDataString(url), StringComparison.Ordinal));
        lock (authorized)
        {
            Assert.Contains($"Bearer {Key}", authorized);
        }
    }
}
