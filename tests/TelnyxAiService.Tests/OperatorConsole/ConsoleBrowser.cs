using Microsoft.Playwright;

namespace TelnyxAiService.Tests.OperatorConsole;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright on one page of the console, with every URL the page requested.
/// With <c>WRITE_SCREENSHOTS=1</c>, <see cref="ScreenshotAsync"/> writes the README's screenshots into <c>docs/</c>.
/// </summary>
public sealed class ConsoleBrowser : IAsyncDisposable
{
    private readonly IPlaywright playwright;
    private readonly IBrowser browser;
    private readonly List<string> requested = [];

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser, IPage page)
    {
        this.playwright = playwright;
        this.browser = browser;
        Page = page;
        page.Request += (_, request) =>
        {
            lock (requested)
            {
                requested.Add(request.Url);
            }
        };
    }

    public IPage Page { get; }

    /// <summary>Every URL the page has requested so far (documents, scripts, fetches, WebSockets).</summary>
    public IReadOnlyList<string> RequestedUrls
    {
        get
        {
            lock (requested)
            {
                return [.. requested];
            }
        }
    }

    /// <param name="microphone">A WAV the fake microphone plays in a loop; null for no microphone.</param>
    public static async Task<ConsoleBrowser> OpenAsync(Uri baseUrl, string? microphone = null, int width = 1280, int height = 800)
    {
        var playwright = await Playwright.CreateAsync();
        List<string> args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
        if (microphone is not null)
        {
            args.AddRange(["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", $"--use-file-for-fake-audio-capture={microphone}", "--autoplay-policy=no-user-gesture-required"]);
        }

        var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = args });
        var context = await browser.NewContextAsync(new() { BaseURL = baseUrl.ToString(), ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        return new ConsoleBrowser(playwright, browser, page);
    }

    /// <summary>Writes <c>docs/{name}</c> in the repository when WRITE_SCREENSHOTS=1; does nothing otherwise.</summary>
    public async Task ScreenshotAsync(string name)
    {
        if (Environment.GetEnvironmentVariable("WRITE_SCREENSHOTS") != "1")
        {
            return;
        }

        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "TelnyxAiService.slnx")))
        {
            root = root.Parent;
        }

        await Page.ScreenshotAsync(new() { Path = Path.Combine(root!.FullName, "docs", name) });
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
