using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TelnyxAiService.Telephony.Telnyx;

/// <summary>
/// Telnyx Call Control v2 over a typed HttpClient. Every command carries a fresh command_id that is reused across
/// retries, so retrying 429 and 5xx answers never repeats an effect (Telnyx ignores a repeated command_id).
/// </summary>
internal sealed partial class TelnyxCallControl(
    HttpClient http,
    TelnyxOptions options,
    TelnyxCommandSettings settings,
    TimeProvider timeProvider,
    ILogger<TelnyxCallControl> logger) : ICallControl
{
    private const int MaxAttempts = 3;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(4);

    public async Task<DialResult> DialAsync(DialRequest request, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["connection_id"] = options.ConnectionId,
            ["to"] = request.To,
            ["from"] = options.PhoneNumber,
            ["webhook_url"] = options.WebhookUrl.ToString(),
            ["client_state"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(request.CallId)),
            ["command_id"] = request.CommandId,
            ["timeout_secs"] = 30,
        };
        if (request.Stream is { } stream)
        {
            AddStream(body, stream);
            body["stream_bidirectional_sampling_rate"] = stream.SampleRate;
            body["stream_auth_token"] = stream.AuthToken;
        }

        using var response = await SendAsync(HttpMethod.Post, "calls", "dial", body, cancellationToken);
        var data = response.RootElement.TryGetProperty("data", out var d) ? d : default;
        string Required(string name) =>
            data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var v) && v.GetString() is { Length: > 0 } s
                ? s
                : throw new Providers.ProviderException("telnyx", $"dial response has no data.{name}", retryable: false);
        return new DialResult(Required("call_control_id"), Required("call_leg_id"), Required("call_session_id"));
    }

    /// <remarks>
    /// Telnyx's answer takes no <c>stream_auth_token</c> nor <c>stream_bidirectional_sampling_rate</c> (the SDK's answer
    /// params have neither): the token travels in the stream URL, and each codec has its fixed rate.
    /// </remarks>
    public Task AnswerAsync(string callControlId, string callId, MediaStreamRequest? stream, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["client_state"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(callId)),
            ["command_id"] = callId,
        };
        if (stream is not null)
        {
            AddStream(body, stream);
        }

        return ActionAsync(callControlId, "answer", body, cancellationToken);
    }

    public Task SpeakAsync(string callControlId, string text, string language, CancellationToken cancellationToken) =>
        ActionAsync(callControlId, "speak", new JsonObject
        {
            ["payload"] = text,
            ["voice"] = settings.SpeakVoice,
            ["language"] = SpeakLanguage(language),
            ["payload_type"] = "text",
        }, cancellationToken);

    public Task StartTranscriptionAsync(string callControlId, string language, CancellationToken cancellationToken) =>
        ActionAsync(callControlId, "transcription_start", new JsonObject
        {
            ["transcription_engine"] = settings.TranscriptionEngine,
            ["transcription_engine_config"] = new JsonObject
            {
                ["transcription_engine"] = settings.TranscriptionEngine,
                ["language"] = language,
            },
            ["transcription_tracks"] = "inbound",
        }, cancellationToken);

    public Task StopTranscriptionAsync(string callControlId, CancellationToken cancellationToken) =>
        ActionAsync(callControlId, "transcription_stop", new JsonObject(), cancellationToken);

    public Task StartPlaybackAsync(string callControlId, Uri audioUrl, CancellationToken cancellationToken) =>
        ActionAsync(callControlId, "playback_start", new JsonObject
        {
            ["audio_url"] = audioUrl.ToString(),
            ["audio_type"] = audioUrl.AbsolutePath.EndsWith(".wav", StringComparison.OrdinalIgnoreCase) ? "wav" : "mp3",
        }, cancellationToken);

    public Task TransferAsync(string callControlId, string to, CancellationToken cancellationToken) =>
        ActionAsync(callControlId, "transfer", new JsonObject { ["to"] = to }, cancellationToken);

    public async Task<CallState> GetCallAsync(string callControlId, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await SendAsync(HttpMethod.Get, $"calls/{Uri.EscapeDataString(callControlId)}", "get", null, cancellationToken);
            return new CallState(response.RootElement.TryGetProperty("data", out var data)
                && data.TryGetProperty("is_alive", out var alive) && alive.ValueKind == JsonValueKind.True);
        }
        catch (TelnyxApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return new CallState(false);
        }
    }

    public async Task HangupAsync(string callControlId, CancellationToken cancellationToken)
    {
        try
        {
            await ActionAsync(callControlId, "hangup", new JsonObject(), cancellationToken);
        }
        catch (TelnyxApiException e) when (e.HasCode("90018"))
        {
            LogAlreadyEnded(logger);
        }
    }

    /// <summary>Telnyx speak wants a locale; our calls carry a short language code.</summary>
    internal static string SpeakLanguage(string language) => language switch
    {
        "es" => "es-ES",
        "en" => "en-US",
        _ => language,
    };

    /// <summary>A bidirectional RTP stream of the caller's audio (inbound track), in one codec both ways.</summary>
    private static void AddStream(JsonObject body, MediaStreamRequest stream)
    {
        body["stream_url"] = stream.Url.OriginalString;
        body["stream_track"] = "inbound_track";
        body["stream_codec"] = stream.Codec;
        body["stream_bidirectional_mode"] = "rtp";
        body["stream_bidirectional_codec"] = stream.Codec;
    }

    private async Task ActionAsync(string callControlId, string action, JsonObject body, CancellationToken cancellationToken)
    {
        body["command_id"] ??= Guid.NewGuid().ToString();
        using var _ = await SendAsync(HttpMethod.Post, $"calls/{Uri.EscapeDataString(callControlId)}/actions/{action}", action, body, cancellationToken);
    }

    private async Task<JsonDocument> SendAsync(HttpMethod method, string path, string command, JsonObject? body, CancellationToken cancellationToken)
    {
        var json = body?.ToJsonString();
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path)
            {
                Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"),
            };
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (attempt == MaxAttempts)
                {
                    throw new Providers.ProviderException("telnyx", $"{command} failed: {e.Message}", retryable: true, e);
                }

                LogRetry(logger, command, 0, attempt);
                await Task.Delay(Backoff(attempt), timeProvider, cancellationToken);
                continue;
            }

            using (response)
            {
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return bytes.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(bytes);
                }

                var status = (int)response.StatusCode;
                var retryable = response.StatusCode == HttpStatusCode.TooManyRequests || status >= 500;
                if (!retryable || attempt == MaxAttempts)
                {
                    throw new TelnyxApiException(response.StatusCode, TelnyxApiException.ParseErrors(bytes), retryable);
                }

                LogRetry(logger, command, status, attempt);
                await Task.Delay(RetryDelay(response, attempt), timeProvider, cancellationToken);
            }
        }
    }

    /// <summary>The server's hint (retry-after, then x-ratelimit-reset, both in seconds) or exponential backoff, capped.</summary>
    private static TimeSpan RetryDelay(HttpResponseMessage response, int attempt)
    {
        var hint = response.Headers.RetryAfter?.Delta
            ?? Seconds(response.Headers.TryGetValues("retry-after", out var retryAfter) ? retryAfter.FirstOrDefault() : null)
            ?? Seconds(response.Headers.TryGetValues("x-ratelimit-reset", out var reset) ? reset.FirstOrDefault() : null);
        return hint is { } delay ? TimeSpan.FromTicks(Math.Clamp(delay.Ticks, 0, MaxBackoff.Ticks)) : Backoff(attempt);
    }

    private static TimeSpan? Seconds(string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : null;

    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromTicks(Math.Min(FirstBackoff.Ticks << (attempt - 1), MaxBackoff.Ticks));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telnyx {Command} answered {Status} on attempt {Attempt}; retrying with the same command_id")]
    private static partial void LogRetry(ILogger logger, string command, int status, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Telnyx hangup: the call had already ended (90018)")]
    private static partial void LogAlreadyEnded(ILogger logger);
}
