using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using TelnyxAiService.Emulators.Anthropic;

namespace TelnyxAiService.Tests.Emulators.Anthropic;

/// <summary>
/// The official TypeScript SDK (@anthropic-ai/sdk, run by node) against the emulator: a second client, written by the
/// vendor, that must not be able to tell the emulator from the API. Needs node and <c>npm ci</c> in node/.
/// </summary>
public sealed class AnthropicSdkFidelityTests
{
    [Fact]
    public async Task TypeScriptSdk_StreamsToolsAndErrors_AsFromTheApi()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueReply(new ScriptedReply("Hello there, from the emulator."));
        emulator.EnqueueReply(new ScriptedReply("Let me check.", "get_weather", """{"location":"Paris"}"""));
        emulator.EnqueueReply(new ScriptedReply("Plain reply."));

        var result = await RunNodeAsync(emulator, "happy");

        var text = result.GetProperty("text");
        Assert.True(text.GetProperty("deltas").GetArrayLength() > 3);
        Assert.Equal("Hello there, from the emulator.", string.Concat(text.GetProperty("deltas").EnumerateArray().Select(d => d.GetString())));
        Assert.Equal("end_turn", text.GetProperty("stop_reason").GetString());
        Assert.True(text.GetProperty("usage").GetProperty("output_tokens").GetInt32() > 1);

        var tool = result.GetProperty("tool");
        Assert.Equal("tool_use", tool.GetProperty("stop_reason").GetString());
        var toolUse = tool.GetProperty("content")[1];
        Assert.Equal("get_weather", toolUse.GetProperty("name").GetString());
        Assert.Equal("Paris", toolUse.GetProperty("input").GetProperty("location").GetString());

        Assert.Equal("Plain reply.", result.GetProperty("created").GetProperty("text").GetString());
        var unauthorized = result.GetProperty("unauthorized");
        Assert.Equal(401, unauthorized.GetProperty("status").GetInt32());
        Assert.Contains("authentication_error", unauthorized.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(emulator.Requests[0].Header("anthropic-version")));
        Assert.True(emulator.Requests[0].Header("x-api-key") == emulator.ApiKey || emulator.Requests[0].Header("authorization") == $"Bearer {emulator.ApiKey}");
    }

    [Fact]
    public async Task TypeScriptSdk_Faults_SurfaceAsTheApisErrors()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueFault(new AnthropicFault.Http529());
        emulator.EnqueueFault(new AnthropicFault.MidStreamError(AfterTokens: 1));
        emulator.EnqueueFault(new AnthropicFault.Http429(RetryAfterSeconds: 1));

        var result = await RunNodeAsync(emulator, "faults");

        var overloaded = result.GetProperty("overloaded");
        Assert.Equal(529, overloaded.GetProperty("status").GetInt32());
        Assert.Contains("overloaded_error", overloaded.GetProperty("error").GetString(), StringComparison.Ordinal);
        var midStream = result.GetProperty("midStream");
        Assert.True(midStream.GetProperty("threw").GetBoolean());
        Assert.Contains("overloaded_error", midStream.GetProperty("error").GetString() + midStream.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(ScriptedReply.Default.Text, string.Concat(result.GetProperty("retried").GetProperty("deltas").EnumerateArray().Select(d => d.GetString())));
        Assert.Equal(4, emulator.Requests.Count);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> RunNodeAsync(AnthropicEmulator emulator, string scenario)
    {
        var folder = Path.Combine(Path.GetDirectoryName(SourceFile())!, "node");
        Assert.SkipUnless(
            Directory.Exists(Path.Combine(folder, "node_modules", "@anthropic-ai", "sdk")),
            $"the TypeScript SDK is not installed: run `npm ci` in {folder}");

        var start = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "fidelity.mjs", emulator.BaseUrl.ToString().TrimEnd('/'), emulator.ApiKey, scenario })
        {
            start.ArgumentList.Add(argument);
        }

        using var node = Process.Start(start)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var output = node.StandardOutput.ReadToEndAsync(timeout.Token);
        var errors = node.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(node.ExitCode == 0, $"node exited with {node.ExitCode}: {await errors}");
        return JsonDocument.Parse(await output).RootElement;
    }

    private static string SourceFile([CallerFilePath] string path = "") => path;
}
