using System.Diagnostics;

namespace TelnyxAiService.Tests.Configuration;

/// <summary>The real binary, started with a bad setting, stops with one line that names the variable.</summary>
public sealed class StartupValidationTests
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "TELNYX_PHONE_NUMBER", "555-0100", "TELNYX_PHONE_NUMBER: must be E.164" },
        { "TELNYX_API_BASE_URL", "ftp://example.test", "TELNYX_API_BASE_URL: must be an absolute" },
        { "TELNYX_PUBLIC_KEY", "c2hvcnQ=", "TELNYX_PUBLIC_KEY: must be the base64 of a 32-byte" },
        { "MAX_CONCURRENT_CALLS", "many", "MAX_CONCURRENT_CALLS: must be a whole number" },
        { "USE_MEDIA_STREAMS", "maybe", "USE_MEDIA_STREAMS: must be true or false" },
        { "AGENT_LANGUAGE", "español!", "AGENT_LANGUAGE: must be a language tag" },
        { "AGENT_PROMPT", "@/nonexistent/prompt.txt", "AGENT_PROMPT: cannot read" },
        { "WEBHOOK_BASE_URL", "", "WEBHOOK_BASE_URL: is required" },
        { "MEDIA_CODEC", "opus", "MEDIA_CODEC: must be PCMU, PCMA or L16" },
        { "LOG_LEVEL", "loud", "LOG_LEVEL: must be one of Trace, Debug, Information" },
        { "CALL_EVENTS_URL", "https://hooks.example.test/calls", "CALL_EVENTS_SECRET: must be set" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task Start_BadSetting_ExitsWithOneLineNamingIt(string name, string value, string expected)
    {
        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.Environment["TELNYX_API_KEY"] = "KEY";
        start.Environment["TELNYX_CONNECTION_ID"] = "123";
        start.Environment["TELNYX_PHONE_NUMBER"] = "+15550100000";
        start.Environment["WEBHOOK_BASE_URL"] = "https://example.test";
        start.Environment["TELNYX_WEBHOOK_VERIFY"] = "false";
        start.Environment["PORT"] = "0";
        start.Environment[name] = value;
        using var process = Process.Start(start)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, process.ExitCode);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }
}
