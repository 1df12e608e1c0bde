using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TelnyxAiService.Emulators.Telnyx;

/// <summary>
/// Telnyx Call Control v2 on loopback: the REST API (dial, call status, actions) with Telnyx's error bodies,
/// command_id idempotency and rate limits, plus signed webhooks from a scripted callee.
/// </summary>
public sealed class TelnyxEmulator : IAsyncDisposable
{
    private static readonly HashSet<string> KnownActions =
    [
        "answer", "hangup", "speak", "playback_start", "playback_stop", "transcription_start", "transcription_stop",
        "streaming_start", "streaming_stop", "transfer", "send_dtmf", "record_start", "record_stop",
    ];

    private readonly TelnyxEmulatorOptions _options;
    private readonly WebhookSigner _signer;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly WebhookDelivery _delivery;
    private readonly BackgroundWork _work = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, EmulatedCall> _calls = new();
    private readonly RecordLog<EmulatedCall> _callLog = new();
    private readonly RecordLog<RecordedCommand> _commands = new();
    private readonly RecordLog<DeliveredWebhook> _webhooks = new();
    private readonly Dictionary<string, Task<Reply>> _commandResults = [];
    private readonly Lock _gate = new();
    private EmulatorHost? _host;
    private int _failingDials;
    private int _failStatus;
    private int _failRetryAfter;
    private DateTimeOffset _windowStart;
    private int _windowCount;

    private TelnyxEmulator(TelnyxEmulatorOptions options)
    {
        _options = options;
        _signer = new WebhookSigner(options.SigningKeySeed);
        _ownsHttp = options.HttpClient is null;
        _http = options.HttpClient ?? new HttpClient();
        _delivery = new WebhookDelivery(_http, _signer, options, _webhooks);
        RequestsPerSecond = options.RequestsPerSecond;
        DefaultWebhookUrl = options.DefaultWebhookUrl;
    }

    /// <summary>http://127.0.0.1:PORT</summary>
    public Uri BaseUrl => _host!.BaseUrl;

    /// <summary>What TELNYX_API_BASE_URL should be: http://127.0.0.1:PORT/v2</summary>
    public Uri ApiBaseUrl => new(BaseUrl.ToString().TrimEnd('/') + "/v2");

    public string ApiKey => _options.ApiKey;

    /// <summary>What TELNYX_PUBLIC_KEY should be: the base64 of the 32-byte Ed25519 key that signs webhooks.</summary>
    public string PublicKeyBase64 => _signer.PublicKeyBase64;

    /// <summary>
    /// Runs when a call with a stream_url (dialled with one, or an incoming call answered with one) is answered, and
    /// again for each <c>streaming_start</c> on the live call (<see cref="EmulatedCall.StreamsStarted"/> counts them); its
    /// token is cancelled when the call ends or a later <c>streaming_start</c> replaces the stream.
    /// </summary>
    public Func<EmulatedCall, CancellationToken, Task>? MediaCallee { get; set; }

    /// <summary>
    /// The connection's webhook URL: where incoming calls are announced, and where a dial without webhook_url reports.
    /// Starts from <see cref="TelnyxEmulatorOptions.DefaultWebhookUrl"/>.
    /// </summary>
    public Uri? DefaultWebhookUrl { get; set; }

    /// <summary>Rate limit knob (requests per second, null = unlimited); starts from the options.</summary>
    public int? RequestsPerSecond { get; set; }

    public IReadOnlyList<RecordedCommand> Commands => _commands.Snapshot();

    /// <summary>Every delivery attempt, including failed ones and retries.</summary>
    public IReadOnlyList<DeliveredWebhook> Webhooks => _webhooks.Snapshot();

    public IReadOnlyList<EmulatedCall> Calls => _callLog.Snapshot();

    /// <summary>Exceptions thrown by background work (callee scripts, media callee); empty when all went well.</summary>
    public IReadOnlyList<Exception> BackgroundFailures => _work.Failures;

    public static async Task<TelnyxEmulator> StartAsync(TelnyxEmulatorOptions options, CancellationToken cancellationToken)
    {
        var emulator = new TelnyxEmulator(options);
        emulator._host = await EmulatorHost.StartAsync(emulator.Map, options.Port, cancellationToken);
        return emulator;
    }

    public EmulatedCall? FindCall(string callControlId) => _calls.GetValueOrDefault(callControlId);

    /// <summary>
    /// Someone calls our number: a parked incoming call whose <c>call.initiated</c> (direction incoming, client_state
    /// null) goes to <see cref="DefaultWebhookUrl"/>. Once the app sends <c>answer</c>, the call takes that command's
    /// client_state and stream fields, <c>call.answered</c> follows, and the caller behaves as a dialled callee does:
    /// <paramref name="caller"/>'s lines in Call Control mode (<see cref="TelnyxEmulatorOptions.Callee"/> when null), or
    /// <see cref="MediaCallee"/> on a media stream.
    /// </summary>
    /// <param name="from">The caller's number.</param>
    /// <param name="to">Our number, the one called.</param>
    public EmulatedCall PlaceInboundCall(string from, string to, CalleeScript? caller = null)
    {
        var webhookUrl = DefaultWebhookUrl ?? throw new InvalidOperationException("Set DefaultWebhookUrl (the connection's webhook URL) before placing an inbound call.");
        var parked = new DialParameters(_options.ConnectionId, from, to, null, webhookUrl, null, null, null, null, null, null, null, null);
        var call = new EmulatedCall(parked, caller ?? _options.Callee, _options, _work, new WebhookQueue(webhookUrl, _delivery, _options.ReorderWebhooks), () => MediaCallee, _stopping.Token, incoming: true);
        _calls[call.CallControlId] = call;
        _callLog.Add(call);
        call.Start();
        return call;
    }

    /// <summary>Fault knob: the next <paramref name="count"/> dials answer 429 (with retry-after) or 500, placing no call.</summary>
    public void FailNextDials(int count, int statusCode = 429, int retryAfterSeconds = 1)
    {
        lock (_gate)
        {
            _failingDials = count;
            _failStatus = statusCode;
            _failRetryAfter = retryAfterSeconds;
        }
    }

    public Task<RecordedCommand> WaitForCommandAsync(Func<RecordedCommand, bool> match, TimeSpan timeout, CancellationToken cancellationToken) =>
        _commands.WaitAsync(match, timeout, "command", cancellationToken);

    public Task<DeliveredWebhook> WaitForWebhookAsync(Func<DeliveredWebhook, bool> match, TimeSpan timeout, CancellationToken cancellationToken) =>
        _webhooks.WaitAsync(match, timeout, "webhook", cancellationToken);

    public Task<EmulatedCall> WaitForCallAsync(Func<EmulatedCall, bool> match, TimeSpan timeout, CancellationToken cancellationToken) =>
        _callLog.WaitAsync(match, timeout, "call", cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _work.WaitAllAsync(TimeSpan.FromSeconds(10));
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_ownsHttp)
        {
            _http.Dispose();
        }

        _stopping.Dispose();
    }

    private void Map(WebApplication app)
    {
        app.MapPost("/v2/calls", (HttpContext context) => HandleAsync(context, "dial", null, DialAsync));
        app.MapGet("/v2/calls/{id}", (HttpContext context, string id) => HandleAsync(context, "get", id, _ => Task.FromResult(GetCall(id))));
        app.MapPost("/v2/calls/{id}/actions/{action}", (HttpContext context, string id, string action) =>
            HandleAsync(context, action, id, body => ActionAsync(id, action, body)));
    }

    private async Task HandleAsync(HttpContext context, string action, string? callControlId, Func<JsonElement, Task<Reply>> handle)
    {
        if (context.Request.Headers.Authorization.ToString() != $"Bearer {_options.ApiKey}")
        {
            await WriteAsync(context, Error(401, "10009", "Authentication failed", "The API key is missing or wrong."));
            return;
        }

        var body = default(JsonElement);
        Reply reply;
        try
        {
            if (HttpMethods.IsPost(context.Request.Method))
            {
                using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                body = document.RootElement.Clone();
            }

            var limited = RateLimit();
            reply = limited is { Status: 429 } ? limited : await handle(body);
            if (limited is { Status: not 429, Headers: { } rateHeaders })
            {
                reply = reply with { Headers = new Dictionary<string, string>((reply.Headers ?? new Dictionary<string, string>()).Concat(rateHeaders)) };
            }
        }
        catch (JsonException)
        {
            reply = Error(400, "10015", "Bad Request", "The request body is not valid JSON.");
        }

        _commands.Add(new RecordedCommand(
            _options.TimeProvider.GetUtcNow(),
            action,
            callControlId ?? reply.CallControlId,
            body,
            body.ValueKind == JsonValueKind.Object && body.TryGetProperty("command_id", out var id) ? id.ToString() : null,
            reply.Status,
            reply.Duplicate));
        await WriteAsync(context, reply);
    }

    private static async Task WriteAsync(HttpContext context, Reply reply)
    {
        context.Response.StatusCode = reply.Status;
        context.Response.ContentType = "application/json";
        foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        await context.Response.WriteAsync(reply.Json, context.RequestAborted);
    }

    /// <summary>A fixed one-second window; null when no limit is set.</summary>
    private Reply? RateLimit()
    {
        if (RequestsPerSecond is not { } limit)
        {
            return null;
        }

        int count;
        double reset;
        lock (_gate)
        {
            var now = _options.TimeProvider.GetUtcNow();
            if (now - _windowStart >= TimeSpan.FromSeconds(1))
            {
                _windowStart = now;
                _windowCount = 0;
            }

            count = ++_windowCount;
            reset = Math.Max(1, Math.Ceiling((_windowStart + TimeSpan.FromSeconds(1) - now).TotalSeconds));
        }

        var headers = new Dictionary<string, string>
        {
            ["x-ratelimit-limit"] = limit.ToString(CultureInfo.InvariantCulture),
            ["x-ratelimit-remaining"] = Math.Max(0, limit - count).ToString(CultureInfo.InvariantCulture),
            ["x-ratelimit-reset"] = reset.ToString(CultureInfo.InvariantCulture),
        };
        return count > limit
            ? Error(429, "10011", "Too many requests", "You have exceeded the maximum number of allowed requests.") with { Headers = headers }
            : new Reply(200, "", Headers: headers);
    }

    private async Task<Reply> DialAsync(JsonElement body)
    {
        lock (_gate)
        {
            if (_failingDials > 0)
            {
                _failingDials--;
                return _failStatus == 429
                    ? Error(429, "10011", "Too many requests", "You have exceeded the maximum number of allowed requests.") with
                    {
                        Headers = new Dictionary<string, string> { ["retry-after"] = _failRetryAfter.ToString(CultureInfo.InvariantCulture) },
                    }
                    : Error(_failStatus, "10007", "Unexpected error", "An unexpected error occurred.");
            }
        }

        if (ValidateDial(body, out var dial) is { } invalid)
        {
            return invalid;
        }

        return await OnceAsync(dial!.CommandId is { } id ? $"dial|{id}" : null, () =>
        {
            var callee = _options.Callees.GetValueOrDefault(dial.To) ?? _options.Callee;
            var call = new EmulatedCall(dial, callee, _options, _work, new WebhookQueue(dial.WebhookUrl, _delivery, _options.ReorderWebhooks), () => MediaCallee, _stopping.Token, incoming: false);
            _calls[call.CallControlId] = call;
            _callLog.Add(call);
            call.Start();
            var json = new JsonObject
            {
                ["data"] = new JsonObject
                {
                    ["call_control_id"] = call.CallControlId,
                    ["call_leg_id"] = call.CallLegId,
                    ["call_session_id"] = call.CallSessionId,
                    ["is_alive"] = false,
                    ["record_type"] = "call",
                },
            };
            return Task.FromResult(new Reply(200, json.ToJsonString(), CallControlId: call.CallControlId));
        });
    }

    private Reply? ValidateDial(JsonElement body, out DialParameters? dial)
    {
        dial = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Invalid("/", "The request body must be a JSON object.");
        }

        if (Text(body, "connection_id") is not { Length: > 0 } connectionId)
        {
            return Invalid("/connection_id", "connection_id is required.");
        }

        if (Text(body, "to") is not { } to || !IsE164(to))
        {
            return Invalid("/to", "to must be a phone number in +E.164 format.");
        }

        if (Text(body, "from") is not { } from || !IsE164(from))
        {
            return Invalid("/from", "from must be a phone number in +E.164 format.");
        }

        var clientState = Text(body, "client_state");
        if (clientState is not null && !IsBase64(clientState))
        {
            return Invalid("/client_state", "client_state must be a valid Base-64 encoded string.");
        }

        var webhookUrl = DefaultWebhookUrl;
        if (Text(body, "webhook_url") is { } webhook)
        {
            if (!Uri.TryCreate(webhook, UriKind.Absolute, out webhookUrl) || webhookUrl.Scheme is not ("http" or "https"))
            {
                return Invalid("/webhook_url", "webhook_url must be an absolute http(s) URL.");
            }
        }

        if (webhookUrl is null)
        {
            return Invalid("/webhook_url", "No webhook_url was given and the connection has none.");
        }

        if (ValidateStream(body, out var streamUrl) is { } badStream)
        {
            return badStream;
        }

        if (ValidateStreamRateAndToken(body, out var sampleRate) is { } badRateOrToken)
        {
            return badRateOrToken;
        }

        if (body.TryGetProperty("timeout_secs", out var timeout) && (!timeout.TryGetInt32(out var seconds) || seconds is < 5 or > 600))
        {
            return Invalid("/timeout_secs", "timeout_secs must be from 5 to 600.");
        }

        dial = new DialParameters(
            connectionId, from, to, clientState, webhookUrl, Text(body, "command_id"), streamUrl,
            Text(body, "stream_track"), Text(body, "stream_codec"), Text(body, "stream_bidirectional_mode"),
            Text(body, "stream_bidirectional_codec"), sampleRate, Text(body, "stream_auth_token"));
        return null;
    }

    /// <summary>The stream fields dial, answer and streaming_start share.</summary>
    private static Reply? ValidateStream(JsonElement body, out Uri? streamUrl)
    {
        streamUrl = null;
        if (Text(body, "stream_url") is { } stream
            && (!Uri.TryCreate(stream, UriKind.Absolute, out streamUrl) || streamUrl.Scheme is not ("ws" or "wss")))
        {
            return Invalid("/stream_url", "stream_url must be a ws:// or wss:// URL.");
        }

        return OneOf(body, "stream_track", "inbound_track", "outbound_track", "both_tracks")
            ?? OneOf(body, "stream_codec", "PCMU", "PCMA", "G722", "OPUS", "AMR-WB", "L16", "default")
            ?? OneOf(body, "stream_bidirectional_mode", "mp3", "rtp")
            ?? OneOf(body, "stream_bidirectional_codec", "PCMU", "PCMA", "G722", "OPUS", "AMR-WB", "L16")
            ?? OneOf(body, "stream_bidirectional_target_legs", "both", "self", "opposite");
    }

    /// <summary>The stream fields dial and streaming_start take but answer does not: the sampling rate and the auth token.</summary>
    private static Reply? ValidateStreamRateAndToken(JsonElement body, out int? sampleRate)
    {
        sampleRate = null;
        if (body.TryGetProperty("stream_bidirectional_sampling_rate", out var rate))
        {
            if (rate.ValueKind != JsonValueKind.Number || !rate.TryGetInt32(out var value) || value is not (8000 or 16000 or 22050 or 24000 or 48000))
            {
                return Invalid("/stream_bidirectional_sampling_rate", "Must be one of 8000, 16000, 22050, 24000, 48000.");
            }

            sampleRate = value;
        }

        return Text(body, "stream_auth_token") is { Length: > 4000 }
            ? Invalid("/stream_auth_token", "stream_auth_token must be at most 4000 characters.")
            : null;
    }

    private Reply GetCall(string callControlId)
    {
        if (FindCall(callControlId) is not { } call)
        {
            return NotFound();
        }

        var data = new JsonObject
        {
            ["call_control_id"] = call.CallControlId,
            ["call_leg_id"] = call.CallLegId,
            ["call_session_id"] = call.CallSessionId,
            ["client_state"] = call.ClientState,
            ["is_alive"] = call.IsAlive,
            ["record_type"] = "call",
            ["start_time"] = EmulatedCall.Timestamp(call.StartTime),
        };
        if (call.EndTime is { } end)
        {
            data["end_time"] = EmulatedCall.Timestamp(end);
            data["call_duration"] = (int)(end - call.StartTime).TotalSeconds;
        }

        return new Reply(200, new JsonObject { ["data"] = data }.ToJsonString());
    }

    private async Task<Reply> ActionAsync(string callControlId, string action, JsonElement body)
    {
        if (!KnownActions.Contains(action) || FindCall(callControlId) is not { } call)
        {
            return NotFound();
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            return Invalid("/", "The request body must be a JSON object.");
        }

        return await OnceAsync(Text(body, "command_id") is { } id ? $"{callControlId}|{id}" : null, async () =>
        {
            if (!call.IsAlive)
            {
                return Error(422, "90018", "Call has already ended", "This call is no longer active and can't receive commands.");
            }

            if (ValidateAction(action, body) is { } invalid)
            {
                return invalid;
            }

            switch (action)
            {
                case "answer":
                    ValidateStream(body, out var streamUrl);
                    call.Answer(
                        Text(body, "client_state"), streamUrl, Text(body, "stream_track"), Text(body, "stream_codec"),
                        Text(body, "stream_bidirectional_mode"), Text(body, "stream_bidirectional_codec"));
                    break;
                case "hangup":
                    await call.EndAsync("normal_clearing", call.OurSide, CancellationToken.None);
                    break;
                case "speak":
                    call.Speak(Text(body, "payload")!);
                    break;
                case "playback_start":
                    call.Playback(Text(body, "audio_url") is { } url ? new Uri(url) : null, Text(body, "media_name"), _http);
                    break;
                case "playback_stop":
                    call.StopPlayback();
                    break;
                case "transcription_start":
                    call.SetTranscription(true);
                    break;
                case "transcription_stop":
                    call.SetTranscription(false);
                    break;
                case "transfer":
                    call.Transfer();
                    break;
                case "streaming_start":
                    ValidateStream(body, out var newStreamUrl);
                    ValidateStreamRateAndToken(body, out var sampleRate);
                    if (!call.StartStreaming(
                        newStreamUrl!, Text(body, "stream_track"), Text(body, "stream_codec"), Text(body, "stream_bidirectional_mode"),
                        Text(body, "stream_bidirectional_codec"), sampleRate, Text(body, "stream_auth_token")))
                    {
                        // Telnyx documents no code for a command on a call not yet answered: this one is the emulator's own, in Call Control's 90xxx range.
                        return Error(422, "90034", "Call not answered", "This command can only be sent to an answered call.");
                    }

                    break;
            }

            return new Reply(200, """{"data":{"result":"ok"}}""");
        });
    }

    private static Reply? ValidateAction(string action, JsonElement body) => action switch
    {
        "answer" when Text(body, "client_state") is { } state && !IsBase64(state) =>
            Invalid("/client_state", "client_state must be a valid Base-64 encoded string."),
        "answer" => ValidateStream(body, out _),
        "speak" when Text(body, "payload") is not { Length: > 0 } => Invalid("/payload", "payload is required."),
        "speak" when Text(body, "voice") is not { Length: > 0 } => Invalid("/voice", "voice is required."),
        "speak" => OneOf(body, "payload_type", "text", "ssml"),
        "transfer" when Text(body, "to") is not { Length: > 0 } => Invalid("/to", "to is required."),
        "playback_start" when Text(body, "audio_url") is null && Text(body, "media_name") is null && Text(body, "playback_content") is null =>
            Invalid("/audio_url", "One of audio_url, media_name or playback_content is required."),
        "playback_start" when Text(body, "audio_url") is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) =>
            Invalid("/audio_url", "audio_url must be an absolute http(s) URL."),
        "playback_start" => OneOf(body, "audio_type", "mp3", "wav"),
        "transcription_start" => OneOf(body, "transcription_tracks", "inbound", "outbound", "both"),
        "streaming_start" when Text(body, "stream_url") is null => Invalid("/stream_url", "stream_url is required."),
        "streaming_start" when Text(body, "client_state") is { } state && !IsBase64(state) =>
            Invalid("/client_state", "client_state must be a valid Base-64 encoded string."),
        "streaming_start" => ValidateStream(body, out _) ?? ValidateStreamRateAndToken(body, out _),
        "send_dtmf" when Text(body, "digits") is not { Length: > 0 } => Invalid("/digits", "digits is required."),
        "record_start" when Text(body, "channels") is not ("single" or "dual") => Invalid("/channels", "channels must be single or dual."),
        "record_start" when Text(body, "format") is not ("wav" or "mp3") => Invalid("/format", "format must be wav or mp3."),
        _ => null,
    };

    /// <summary>command_id idempotency: a repeat replays the first successful answer and has no effect.</summary>
    private async Task<Reply> OnceAsync(string? key, Func<Task<Reply>> run)
    {
        if (key is null)
        {
            return await run();
        }

        TaskCompletionSource<Reply>? mine = null;
        Task<Reply>? earlier;
        lock (_gate)
        {
            if (!_commandResults.TryGetValue(key, out earlier))
            {
                mine = new TaskCompletionSource<Reply>(TaskCreationOptions.RunContinuationsAsynchronously);
                _commandResults[key] = mine.Task;
            }
        }

        if (earlier is not null)
        {
            var first = await earlier;
            return first.Status is >= 200 and < 300 ? first with { Duplicate = true } : await OnceAsync(key, run);
        }

        Reply reply;
        try
        {
            reply = await run();
        }
        catch (Exception e)
        {
            Forget(key);
            mine!.SetException(e);
            throw;
        }

        if (reply.Status is < 200 or >= 300)
        {
            Forget(key);
        }

        mine!.SetResult(reply);
        return reply;
    }

    private void Forget(string key)
    {
        lock (_gate)
        {
            _commandResults.Remove(key);
        }
    }

    private static Reply? OneOf(JsonElement body, string name, params string[] allowed) =>
        body.TryGetProperty(name, out var value) && (value.ValueKind != JsonValueKind.String || !allowed.Contains(value.GetString()))
            ? Invalid($"/{name}", $"{name} must be one of {string.Join(", ", allowed)}.")
            : null;

    private static string? Text(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static bool IsE164(string value) =>
        value.Length is >= 9 and <= 16 && value[0] == '+' && value[1] != '0' && !value.AsSpan(1).ContainsAnyExceptInRange('0', '9');

    private static bool IsBase64(string value) => Convert.TryFromBase64String(value, new byte[value.Length], out _);

    private static Reply NotFound() => Error(404, "10005", "Resource not found", "The requested resource or URL could not be found.");

    private static Reply Invalid(string pointer, string detail) => Error(422, "10015", "Invalid value", detail, pointer);

    private static Reply Error(int status, string code, string title, string detail, string? pointer = null)
    {
        var error = new JsonObject { ["code"] = code, ["title"] = title, ["detail"] = detail };
        if (pointer is not null)
        {
            error["source"] = new JsonObject { ["pointer"] = pointer };
        }

        return new Reply(status, new JsonObject { ["errors"] = new JsonArray(error) }.ToJsonString());
    }

    private sealed record Reply(int Status, string Json, IReadOnlyDictionary<string, string>? Headers = null, string? CallControlId = null, bool Duplicate = false);
}
