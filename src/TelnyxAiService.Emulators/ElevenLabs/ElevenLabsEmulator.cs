using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.ElevenLabs;

/// <summary>
/// ElevenLabs text-to-speech on loopback: <c>POST /v1/text-to-speech/{voice_id}/stream</c> (chunked audio),
/// <c>POST /v1/text-to-speech/{voice_id}</c> (whole file) and the <c>stream-input</c> WebSocket. The audio is
/// <see cref="SyntheticSpeech"/> for the text, in the requested <c>output_format</c>: ulaw_8000, alaw_8000 or pcm_*.
/// mp3_* and opus_* (also the vendor's default, mp3_44100_128, when output_format is missing) are answered with
/// 422 <c>unsupported_output_format</c>: the service never asks for them and the emulator does not encode them.
/// </summary>
public sealed class ElevenLabsEmulator : IAsyncDisposable
{
    private static readonly string[] PcmRates = ["8000", "16000", "22050", "24000", "32000", "44100", "48000"];

    private readonly EmulatorHost _host;
    private readonly ConcurrentQueue<ElevenLabsFault> _faults = new();
    private readonly ConcurrentQueue<ElevenLabsRecordedRequest> _requests = new();

    private ElevenLabsEmulator(EmulatorHost host, ElevenLabsEmulatorOptions options)
    {
        _host = host;
        Options = options;
    }

    public ElevenLabsEmulatorOptions Options { get; }

    /// <summary>http://127.0.0.1:PORT: use it as the API base URL.</summary>
    public Uri BaseUrl => _host.BaseUrl;

    /// <summary>ws://127.0.0.1:PORT: the base of the stream-input WebSocket URL.</summary>
    public Uri WebSocketBaseUrl => new($"ws://{BaseUrl.Authority}");

    public string ApiKey => Options.ApiKey;

    /// <summary>Every request received so far, oldest first.</summary>
    public IReadOnlyList<ElevenLabsRecordedRequest> Requests => [.. _requests];

    public static async Task<ElevenLabsEmulator> StartAsync(ElevenLabsEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ElevenLabsEmulatorOptions();
        if (options.RealtimeFactor <= 0 || options.ChunkDuration <= TimeSpan.Zero)
        {
            throw new ArgumentException("RealtimeFactor and ChunkDuration must be positive.", nameof(options));
        }

        ElevenLabsEmulator? emulator = null;
        var host = await EmulatorHost.StartAsync(
            app =>
            {
                app.MapPost("/v1/text-to-speech/{voiceId}/stream", context => emulator!.SpeakAsync(context, streamed: true));
                app.MapPost("/v1/text-to-speech/{voiceId}", context => emulator!.SpeakAsync(context, streamed: false));
                app.Map("/v1/text-to-speech/{voiceId}/stream-input", context => emulator!.StreamInputAsync(context));
            },
            options.Port,
            cancellationToken);
        emulator = new ElevenLabsEmulator(host, options);
        return emulator;
    }

    /// <summary>The next <paramref name="count"/> requests (HTTP or WebSocket handshakes) fail with <paramref name="fault"/>.</summary>
    public void FailNext(ElevenLabsFault fault, int count = 1)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue(fault);
        }
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    internal static EmulatedAudioFormat? ParseOutputFormat(string? value) => value switch
    {
        "ulaw_8000" => EmulatedAudioFormat.Pcmu8k,
        "alaw_8000" => EmulatedAudioFormat.Pcma8k,
        ['p', 'c', 'm', '_', .. var rate] when PcmRates.Contains(rate) => new EmulatedAudioFormat("L16", int.Parse(rate)),
        _ => null,
    };

    internal static async Task DelayAsync(TimeSpan delay, TimeProvider time, CancellationToken cancellationToken)
    {
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, time, cancellationToken);
        }
    }

    internal TimeSpan PaceOf(TimeSpan audio) => double.IsPositiveInfinity(Options.RealtimeFactor) ? TimeSpan.Zero : audio / Options.RealtimeFactor;

    /// <summary>A JSON reply, written by the node itself (no reflection-based serializer).</summary>
    private static IResult Reply(JsonObject body, int statusCode) =>
        Results.Text(body.ToJsonString(), "application/json", Encoding.UTF8, statusCode);

    internal static JsonObject Detail(string status, string message) => new() { ["detail"] = new JsonObject { ["status"] = status, ["message"] = message } };

    private async Task SpeakAsync(HttpContext context, bool streamed)
    {
        var cancellationToken = context.RequestAborted;
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync(cancellationToken);
        Record(context, body);
        if (Reject(context) is { } rejection)
        {
            await rejection.ExecuteAsync(context);
            return;
        }

        var outputFormat = context.Request.Query["output_format"].ToString();
        var format = ParseOutputFormat(outputFormat);
        if (format is null)
        {
            await UnsupportedFormat(outputFormat).ExecuteAsync(context);
            return;
        }

        if (ReadText(body) is not { } text)
        {
            await Validation(body).ExecuteAsync(context);
            return;
        }

        var audio = SyntheticSpeech.For(text, format);
        context.Response.ContentType = format.Encoding == "L16" ? "audio/pcm" : "audio/basic";
        context.Response.Headers["request-id"] = Guid.NewGuid().ToString("N");
        await DelayAsync(Options.TimeToFirstByte, Options.TimeProvider, cancellationToken);
        if (!streamed)
        {
            await DelayAsync(PaceOf(format.DurationOf(audio.Length)), Options.TimeProvider, cancellationToken);
            context.Response.ContentLength = audio.Length;
            await context.Response.Body.WriteAsync(audio, cancellationToken);
            return;
        }

        var chunkBytes = Math.Max(format.BytesPerSample, format.BytesPer(Options.ChunkDuration));
        for (var offset = 0; offset < audio.Length; offset += chunkBytes)
        {
            if (offset > 0)
            {
                await DelayAsync(PaceOf(Options.ChunkDuration), Options.TimeProvider, cancellationToken);
            }

            await context.Response.Body.WriteAsync(audio.AsMemory(offset, Math.Min(chunkBytes, audio.Length - offset)), cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
        }
    }

    private async Task StreamInputAsync(HttpContext context)
    {
        var request = Record(context, "");
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Reply(Detail("websocket_required", "This endpoint only accepts WebSocket connections."), statusCode: 400).ExecuteAsync(context);
            return;
        }

        var headerKey = context.Request.Headers["xi-api-key"].ToString();
        var rejection = headerKey.Length > 0 && headerKey != ApiKey ? InvalidKey() : NextFault() is { } fault ? FaultResult(fault) : null;
        if (rejection is not null)
        {
            await rejection.ExecuteAsync(context);
            return;
        }

        var outputFormat = context.Request.Query["output_format"].ToString();
        var format = ParseOutputFormat(outputFormat);
        if (format is null)
        {
            await UnsupportedFormat(outputFormat).ExecuteAsync(context);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await new ElevenLabsStreamInputSession(this, socket, format, request, authenticated: headerKey.Length > 0).RunAsync(context.RequestAborted);
    }

    private ElevenLabsRecordedRequest Record(HttpContext context, string body)
    {
        var request = new ElevenLabsRecordedRequest(
            context.Request.Method,
            context.Request.Path.Value ?? "",
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()),
            body);
        _requests.Enqueue(request);
        return request;
    }

    private IResult? Reject(HttpContext context)
    {
        var key = context.Request.Headers["xi-api-key"].ToString();
        if (key.Length == 0)
        {
            return Reply(Detail("needs_authorization", "Neither authorization header nor xi-api-key received, please provide one."), statusCode: 401);
        }

        if (key != ApiKey)
        {
            return InvalidKey();
        }

        return NextFault() is { } fault ? FaultResult(fault) : null;
    }

    private ElevenLabsFault? NextFault() => _faults.TryDequeue(out var fault) ? fault : null;

    private static IResult InvalidKey() => Reply(Detail("invalid_api_key", "Invalid API key"), statusCode: 401);

    private static IResult FaultResult(ElevenLabsFault fault) => fault switch
    {
        ElevenLabsFault.Http401Quota => Reply(
            new JsonObject
            {
                ["detail"] = new JsonObject
                {
                    ["status"] = "quota_exceeded",
                    ["message"] = "This request exceeds your quota. You have 11 characters remaining, while 70 characters are required for this request.",
                    ["character_used"] = 10059,
                    ["character_limit"] = 10000,
                },
            },
            statusCode: 401),
        ElevenLabsFault.Http429 => Reply(
            Detail("too_many_concurrent_requests", "Too many concurrent requests. Your current subscription is associated with a maximum of 2 concurrent requests running in parallel."),
            statusCode: 429),
        _ => Reply(Detail("internal_server_error", "An internal server error occurred."), statusCode: 500),
    };

    private static IResult UnsupportedFormat(string outputFormat) => Reply(
        Detail(
            "unsupported_output_format",
            $"The ElevenLabs emulator does not produce '{(outputFormat.Length == 0 ? "mp3_44100_128" : outputFormat)}': use ulaw_8000, alaw_8000 or pcm_8000/16000/22050/24000/32000/44100/48000."),
        statusCode: 422);

    private static string? ReadText(string body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject json && json["text"] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0
                ? text
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The FastAPI validation shape: <c>{"detail":[{"type","loc","msg","input"}]}</c>.</summary>
    private static IResult Validation(string body)
    {
        JsonObject problem;
        try
        {
            var text = (JsonNode.Parse(body) as JsonObject)?["text"];
            problem = text switch
            {
                null => new JsonObject { ["type"] = "missing", ["loc"] = new JsonArray("body", "text"), ["msg"] = "Field required", ["input"] = null },
                JsonValue v when v.TryGetValue<string>(out _) => new JsonObject { ["type"] = "string_too_short", ["loc"] = new JsonArray("body", "text"), ["msg"] = "String should have at least 1 character", ["input"] = "" },
                _ => new JsonObject { ["type"] = "string_type", ["loc"] = new JsonArray("body", "text"), ["msg"] = "Input should be a valid string", ["input"] = text.DeepClone() },
            };
        }
        catch (JsonException e)
        {
            problem = new JsonObject { ["type"] = "json_invalid", ["loc"] = new JsonArray("body", 0), ["msg"] = "JSON decode error", ["input"] = new JsonObject(), ["ctx"] = new JsonObject { ["error"] = e.Message } };
        }

        return Reply(new JsonObject { ["detail"] = new JsonArray(problem) }, statusCode: 422);
    }
}
