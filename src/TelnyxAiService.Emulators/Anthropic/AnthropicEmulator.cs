using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TelnyxAiService.Emulators.Anthropic;

/// <summary>
/// The Anthropic Messages API (<c>POST /v1/messages</c>) as the official SDKs see it: the same authentication, validation
/// errors, error envelopes and server-sent event sequence (protocols.md §4), with scripted replies and injectable faults.
/// </summary>
public sealed partial class AnthropicEmulator : IAsyncDisposable
{
    private const string Model429Message = "This request would exceed your organization's rate limit of 20,000,000 prompt bytes per hour (org: 5576611f-a1ee-427c-9800-298d9579899c, model: claude-sonnet-4-5-20250929). For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.";

    private readonly AnthropicEmulatorOptions _options;
    private readonly ConcurrentQueue<ScriptedReply> _replies = new();
    private readonly ConcurrentQueue<AnthropicFault> _faults = new();
    private readonly List<RecordedMessagesRequest> _requests = [];
    private readonly CancellationTokenSource _stopping = new();
    private EmulatorHost? _host;

    private AnthropicEmulator(AnthropicEmulatorOptions options) => _options = options;

    /// <summary>http://127.0.0.1:PORT: the SDK's base URL (it appends /v1/messages).</summary>
    public Uri BaseUrl => _host!.BaseUrl;

    public string ApiKey => _options.ApiKey;

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<RecordedMessagesRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<AnthropicEmulator> StartAsync(AnthropicEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        var emulator = new AnthropicEmulator(options ?? new AnthropicEmulatorOptions());
        emulator._host = await EmulatorHost.StartAsync(
            app => app.MapPost("/v1/messages", emulator.HandleAsync),
            emulator._options.Port,
            cancellationToken);
        return emulator;
    }

    /// <summary>The reply to the next request (before <see cref="AnthropicEmulatorOptions.Reply"/> is asked).</summary>
    public void EnqueueReply(ScriptedReply reply) => _replies.Enqueue(reply);

    /// <summary>A failure for the next request that passes authentication and validation.</summary>
    public void EnqueueFault(AnthropicFault fault) => _faults.Enqueue(fault);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _stopping.Dispose();
    }

    internal static string TextOf(JsonElement content) => content.ValueKind == JsonValueKind.String
        ? content.GetString()!
        : string.Concat(content.EnumerateArray()
            .Where(b => b.TryGetProperty("type", out var type) && type.GetString() == "text")
            .Select(b => b.GetProperty("text").GetString()));

    /// <summary>Word-ish tokens whose concatenation is the text: "Hello", " there", "!".</summary>
    public static IReadOnlyList<string> Tokenize(string text) => [.. TokenPattern().Matches(text).Select(m => m.Value)];

    private async Task HandleAsync(HttpContext context)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            await RespondAsync(context, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The client went away (or the emulator is stopping) mid-response: nothing left to send.
        }
    }

    private async Task RespondAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var request = await RecordAsync(context.Request, cancellationToken);
        var requestId = NewId("req_");
        context.Response.Headers["request-id"] = requestId;

        if (!IsAuthorized(context.Request))
        {
            await WriteErrorAsync(context.Response, 401, "authentication_error", "invalid x-api-key", requestId, cancellationToken);
            return;
        }

        if (Validate(request) is { } problem)
        {
            await WriteErrorAsync(context.Response, 400, "invalid_request_error", problem, requestId, cancellationToken);
            return;
        }

        _faults.TryDequeue(out var fault);
        switch (fault)
        {
            case AnthropicFault.Http429 rateLimited:
                context.Response.Headers["x-should-retry"] = "true";
                context.Response.Headers["retry-after"] = rateLimited.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await WriteErrorAsync(context.Response, 429, "rate_limit_error", Model429Message, requestId, cancellationToken);
                return;
            case AnthropicFault.Http529:
                await WriteErrorAsync(context.Response, 529, "overloaded_error", "Overloaded", requestId, cancellationToken);
                return;
        }

        var reply = _replies.TryDequeue(out var queued) ? queued : (_options.Reply ?? ScriptedReply.For)(request);
        var body = request.Body;
        var model = body.GetProperty("model").GetString()!;
        var inputTokens = Math.Max(1, request.RawBody.Length / 4);

        if (_options.TimeToFirstToken > TimeSpan.Zero)
        {
            await Task.Delay(_options.TimeToFirstToken, cancellationToken);
        }

        if (body.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
        {
            await StreamAsync(context.Response, model, inputTokens, reply, fault, cancellationToken);
        }
        else
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Message(model, inputTokens, reply).ToJsonString(), cancellationToken);
        }
    }

    private async Task<RecordedMessagesRequest> RecordAsync(HttpRequest httpRequest, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(httpRequest.Body, Encoding.UTF8);
        var raw = await reader.ReadToEndAsync(cancellationToken);
        JsonElement body = default;
        try
        {
            body = JsonDocument.Parse(raw).RootElement;
        }
        catch (JsonException)
        {
        }

        var headers = httpRequest.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var request = new RecordedMessagesRequest(headers, raw, body);
        lock (_requests)
        {
            _requests.Add(request);
        }

        return request;
    }

    private bool IsAuthorized(HttpRequest request) =>
        request.Headers["x-api-key"] == _options.ApiKey || request.Headers.Authorization == $"Bearer {_options.ApiKey}";

    private static string? Validate(RecordedMessagesRequest request)
    {
        if (string.IsNullOrEmpty(request.Header("anthropic-version")))
        {
            return "anthropic-version: header is required";
        }

        var body = request.Body;
        if (body.ValueKind != JsonValueKind.Object)
        {
            return "The request body is not valid JSON.";
        }

        if (!body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString()!.Length == 0)
        {
            return "model: Field required";
        }

        if (!body.TryGetProperty("max_tokens", out var maxTokens) || !maxTokens.TryGetInt64(out var max))
        {
            return "max_tokens: Field required";
        }

        if (max < 1)
        {
            return "max_tokens: Input should be greater than or equal to 1";
        }

        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return "messages: Field required";
        }

        if (messages.GetArrayLength() == 0)
        {
            return "messages: at least one message is required";
        }

        var index = 0;
        string? previous = null;
        foreach (var message in messages.EnumerateArray())
        {
            var role = message.TryGetProperty("role", out var r) ? r.GetString() : null;
            if (role is not ("user" or "assistant"))
            {
                return $"messages.{index}.role: Input should be 'user' or 'assistant'";
            }

            if (index == 0 && role != "user")
            {
                return "messages: first message must use the \"user\" role";
            }

            if (role == previous)
            {
                return $"messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"{role}\" roles in a row";
            }

            if (!message.TryGetProperty("content", out var content) || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            {
                return $"messages.{index}.content: Input should be a valid string or list of content blocks";
            }

            if (content.ValueKind == JsonValueKind.Array && content.EnumerateArray().Any(b => b.ValueKind != JsonValueKind.Object || !b.TryGetProperty("type", out _)))
            {
                return $"messages.{index}.content: each content block needs a type";
            }

            previous = role;
            index++;
        }

        return null;
    }

    private async Task StreamAsync(HttpResponse response, string model, int inputTokens, ScriptedReply reply, AnthropicFault? fault, CancellationToken cancellationToken)
    {
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        var tokens = Tokenize(reply.Text);
        var toolFragments = reply.ToolName is null ? [] : Fragments(reply.ToolInputJson ?? "{}");
        var outputTokens = 1 + tokens.Count + toolFragments.Count;
        var pause = _options.TokensPerSecond > 0 ? TimeSpan.FromSeconds(1 / _options.TokensPerSecond) : TimeSpan.Zero;

        var start = Message(model, inputTokens, reply: null);
        start["usage"]!["output_tokens"] = 1;
        await SendAsync(response, "message_start", new JsonObject { ["type"] = "message_start", ["message"] = start }, cancellationToken);

        if (fault is AnthropicFault.Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        await SendAsync(response, "content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } }, cancellationToken);
        await SendAsync(response, "ping", new JsonObject { ["type"] = "ping" }, cancellationToken);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (fault is AnthropicFault.MidStreamError failure && i == failure.AfterTokens)
            {
                await SendOverloadedAsync(response, cancellationToken);
                return;
            }

            if (pause > TimeSpan.Zero && i > 0)
            {
                await Task.Delay(pause, cancellationToken);
            }

            await SendAsync(response, "content_block_delta", Delta(0, new JsonObject { ["type"] = "text_delta", ["text"] = tokens[i] }), cancellationToken);
        }

        if (fault is AnthropicFault.MidStreamError)
        {
            await SendOverloadedAsync(response, cancellationToken);
            return;
        }

        await SendAsync(response, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 }, cancellationToken);

        if (reply.ToolName is not null)
        {
            var toolUse = new JsonObject { ["type"] = "tool_use", ["id"] = NewId("toolu_"), ["name"] = reply.ToolName, ["caller"] = new JsonObject { ["type"] = "direct" }, ["input"] = new JsonObject() };
            await SendAsync(response, "content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = 1, ["content_block"] = toolUse }, cancellationToken);
            foreach (var fragment in toolFragments)
            {
                await SendAsync(response, "content_block_delta", Delta(1, new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = fragment }), cancellationToken);
            }

            await SendAsync(response, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 1 }, cancellationToken);
        }

        var stopReason = reply.ToolName is null ? "end_turn" : "tool_use";
        await SendAsync(response, "message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = stopReason, ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = outputTokens },
        }, cancellationToken);
        await SendAsync(response, "message_stop", new JsonObject { ["type"] = "message_stop" }, cancellationToken);
    }

    private static JsonObject Delta(int index, JsonObject delta) =>
        new() { ["type"] = "content_block_delta", ["index"] = index, ["delta"] = delta };

    private static Task SendOverloadedAsync(HttpResponse response, CancellationToken cancellationToken) =>
        SendAsync(response, "error", new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = "overloaded_error", ["message"] = "Overloaded" } }, cancellationToken);

    private static async Task SendAsync(HttpResponse response, string name, JsonObject data, CancellationToken cancellationToken)
    {
        await response.WriteAsync($"event: {name}\ndata: {data.ToJsonString()}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>The message object: complete for a non-streaming reply, empty (as in <c>message_start</c>) when reply is null.</summary>
    private static JsonObject Message(string model, int inputTokens, ScriptedReply? reply)
    {
        var content = new JsonArray();
        string? stopReason = null;
        var outputTokens = 0;
        if (reply is not null)
        {
            content.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = reply.Text });
            if (reply.ToolName is not null)
            {
                content.Add((JsonNode)new JsonObject { ["type"] = "tool_use", ["id"] = NewId("toolu_"), ["name"] = reply.ToolName, ["input"] = JsonNode.Parse(reply.ToolInputJson ?? "{}") });
            }

            stopReason = reply.ToolName is null ? "end_turn" : "tool_use";
            outputTokens = Tokenize(reply.Text).Count + 1;
        }

        return new JsonObject
        {
            ["id"] = NewId("msg_"),
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = model,
            ["content"] = content,
            ["stop_reason"] = stopReason,
            ["stop_sequence"] = null,
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = inputTokens,
                ["cache_creation_input_tokens"] = 0,
                ["cache_read_input_tokens"] = 0,
                ["output_tokens"] = outputTokens,
                ["service_tier"] = "standard",
            },
        };
    }

    private static async Task WriteErrorAsync(HttpResponse response, int status, string type, string message, string requestId, CancellationToken cancellationToken)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        var body = new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
            ["request_id"] = requestId,
        };
        await response.WriteAsync(body.ToJsonString(), cancellationToken);
    }

    /// <summary>The tool input split as the API streams it: an empty first fragment, then short pieces.</summary>
    private static List<string> Fragments(string json)
    {
        var fragments = new List<string> { "" };
        for (var i = 0; i < json.Length; i += 8)
        {
            fragments.Add(json.Substring(i, Math.Min(8, json.Length - i)));
        }

        return fragments;
    }

    private static string NewId(string prefix) =>
        prefix + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 24);

    [GeneratedRegex(@"\s*(?:[\p{L}\p{N}]+|[^\p{L}\p{N}\s])|\s+$")]
    private static partial Regex TokenPattern();
}
