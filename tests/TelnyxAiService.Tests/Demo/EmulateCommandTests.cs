using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Demo;

/// <summary><c>telnyx-ai-service emulate</c> as a user runs it: a child process whose printed variables drive the service.</summary>
public sealed class EmulateCommandTests
{
    private static readonly string[] Printed =
    [
        "TELNYX_API_BASE_URL", "TELNYX_API_KEY", "TELNYX_PUBLIC_KEY", "TELNYX_CONNECTION_ID", "TELNYX_PHONE_NUMBER", "WEBHOOK_BASE_URL",
        "DEEPGRAM_URL", "DEEPGRAM_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ELEVENLABS_BASE_URL", "ELEVENLABS_API_KEY",
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Emulate_PrintedEnvironment_DrivesTheServiceThroughACompleteCall()
    {
        var port = ServiceProcess.FreePort();
        using var emulate = Process.Start(ServiceProcess.Command("emulate", "--service-url", $"http://127.0.0.1:{port}", "--telnyx-answer-after-ms", "50"))!;
        try
        {
            var settings = await ReadExportsAsync(emulate.StandardOutput);
            Assert.Equal(Printed, settings.Keys);
            Assert.Equal($"http://127.0.0.1:{port}", settings["WEBHOOK_BASE_URL"]);

            await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
            {
                foreach (var (key, value) in settings)
                {
                    builder.UseSetting(key, value);
                }

                builder.UseSetting("USE_MEDIA_STREAMS", "false");
                builder.UseSetting("AGENT_LANGUAGE", "en");
                builder.UseUrls($"http://127.0.0.1:{port}");
            });
            factory.UseKestrel();
            factory.StartServer();
            using var client = factory.CreateClient();

            var response = await client.PostAsJsonAsync("/api/call/initiate", new { phone = "+15550100001", name = "Ana" }, Ct);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

            // The persona's lines arrive as Telnyx transcriptions, Claude's emulator answers, and "goodbye" ends the call.
            await Wait.UntilAsync(
                async () => (await client.GetFromJsonAsync<JsonElement>("/api/sessions/stats", Ct)).GetProperty("calls_completed").GetInt64() == 1,
                "the call to complete",
                TimeSpan.FromSeconds(60));
            var stats = await client.GetFromJsonAsync<JsonElement>("/api/sessions/stats", Ct);
            Assert.Equal(0, stats.GetProperty("active_sessions").GetInt32());
            Assert.Equal(1, stats.GetProperty("calls_answered").GetInt64());
        }
        finally
        {
            emulate.Kill(entireProcessTree: true);
            await emulate.WaitForExitAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Emulate_UnknownKnob_ExitsWithTheKnownOnes()
    {
        using var emulate = Process.Start(ServiceProcess.Command("emulate", "--deepgram-final-delay", "300"))!;
        var error = await emulate.StandardError.ReadToEndAsync(Ct);
        await emulate.WaitForExitAsync(Ct);

        Assert.Equal(2, emulate.ExitCode);
        Assert.Contains("unknown knob 'deepgram-final-delay'", error);
        Assert.Contains("deepgram-final-delay-ms", error);
    }

    /// <summary>Reads <c>export NAME=value</c> lines until the comment that follows them.</summary>
    private static async Task<Dictionary<string, string>> ReadExportsAsync(StreamReader output)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var settings = new Dictionary<string, string>();
        while (await output.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                var (name, value) = (line[7..line.IndexOf('=')], line[(line.IndexOf('=') + 1)..]);
                settings[name] = value;
            }
            else if (settings.Count > 0)
            {
                break;
            }
        }

        return settings;
    }
}
