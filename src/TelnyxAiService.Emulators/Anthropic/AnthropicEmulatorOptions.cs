using System.Text.Json;

namespace TelnyxAiService.Emulators.Anthropic;

/// <summary>How the emulated Anthropic Messages API behaves.</summary>
public sealed class AnthropicEmulatorOptions
{
    /// <summary>The key clients must send as <c>x-api-key</c> or <c>Authorization: Bearer</c>.</summary>
    public string ApiKey { get; init; } = "sk-ant-emulator";

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>The model's "thinking" time before the response starts (benchmarks use about 400 ms).</summary>
    public TimeSpan TimeToFirstToken { get; init; } = TimeSpan.Zero;

    /// <summary>Streaming pace; 0 sends every token at once.</summary>
    public double TokensPerSecond { get; init; }

    /// <summary>The reply to a request when no reply is queued; null gives <see cref="ScriptedReply.For"/>.</summary>
    public Func<RecordedMessagesRequest, ScriptedReply>? Reply { get; init; }
}

/// <summary>What the emulated model says: text, then optionally one tool call.</summary>
/// <param name="ToolInputJson">The tool's input as a JSON object; null means <c>{}</c>.</param>
public sealed record ScriptedReply(string Text, string? ToolName = null, string? ToolInputJson = null)
{
    public static ScriptedReply Default { get; } = new("Hello! I'm the emulated assistant. How can I help you today?");

    public static ScriptedReply Goodbye { get; } = new("Thank you for your time. Goodbye!", "end_call");

    /// <summary>
    /// The default script: <see cref="Goodbye"/> with the <c>end_call</c> tool when the caller's last words say goodbye
    /// and the tool is offered, otherwise <see cref="Default"/>.
    /// </summary>
    public static ScriptedReply For(RecordedMessagesRequest request)
    {
        var last = request.Messages.LastOrDefault(m => m.Role == "user").Text ?? "";
        var offersEndCall = request.Body.TryGetProperty("tools", out var tools)
            && tools.EnumerateArray().Any(t => t.TryGetProperty("name", out var name) && name.GetString() == "end_call");
        string[] farewells = ["bye", "goodbye", "adiós", "adios", "hang up"];
        return offersEndCall && farewells.Any(f => last.Contains(f, StringComparison.OrdinalIgnoreCase)) ? Goodbye : Default;
    }
}

/// <summary>A failure the emulator applies to the next request, in queue order.</summary>
public abstract record AnthropicFault
{
    private AnthropicFault()
    {
    }

    /// <summary>429 rate_limit_error with <c>retry-after</c> and <c>x-should-retry: true</c>, as recorded from the API.</summary>
    public sealed record Http429(int RetryAfterSeconds) : AnthropicFault;

    /// <summary>529 overloaded_error.</summary>
    public sealed record Http529 : AnthropicFault;

    /// <summary>A 200 stream that sends <paramref name="AfterTokens"/> text tokens, then an <c>error</c> event (overloaded_error).</summary>
    public sealed record MidStreamError(int AfterTokens) : AnthropicFault;

    /// <summary>A 200 stream that sends <c>message_start</c> and then nothing until the client gives up.</summary>
    public sealed record Hang : AnthropicFault;
}

/// <summary>One request as it arrived: header names are lower-case; <see cref="Body"/> is Undefined when it was not JSON.</summary>
public sealed record RecordedMessagesRequest(IReadOnlyDictionary<string, string> Headers, string RawBody, JsonElement Body)
{
    public string? Header(string name) => Headers.GetValueOrDefault(name.ToLowerInvariant());

    /// <summary>The <c>system</c> prompt as one string (text blocks joined), or null.</summary>
    public string? System => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("system", out var system)
        ? system.ValueKind == JsonValueKind.String
            ? system.GetString()
            : string.Join("\n", system.EnumerateArray().Select(b => b.GetProperty("text").GetString()))
        : null;

    /// <summary>The messages as (role, text) with text blocks joined.</summary>
    public IReadOnlyList<(string Role, string Text)> Messages => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("messages", out var messages)
        ? [.. messages.EnumerateArray().Select(m => (m.GetProperty("role").GetString()!, AnthropicEmulator.TextOf(m.GetProperty("content"))))]
        : [];
}
