using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using TelnyxAiService.Resilience;

namespace TelnyxAiService.Telephony.Telnyx;

/// <summary>
/// Telnyx Call Control v2 over a typed HttpClient. Every command carries a fresh command_id that is reused across
/// retries, so retrying 429 and 5xx answers never repeats an effect (Telnyx ignores a repeated command_id). A 429, 5xx,
/// connection failure or timeout (<see cref="AttemptTimeout"/> per attempt) is tried three times in all, waiting what
/// the server asks (capped) or backing off, on the injected clock.
/// </summary>
internal sealed partial class TelnyxCallControl(
    HttpClient http,
    TelnyxOptions options,
    TelnyxCommandSettings settings,
    Telemetry.ServiceTelemetry telemetry,
    TimeProvider timeProvider,
    ILogger<TelnyxCallControl> logger) : ICallControl
{
    private const int MaxAttempts = 3;

    /// <summary>How long one attempt may take, the response body included.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(15);

    /// <summary>A bidirectional RTP stream of the caller's audio (inbound track), in one codec both ways.</summary>
    private const string StreamTrack = "inbound_track";

    private const string StreamMode = "rtp";
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(4);

    private readonly ResiliencePipeline<HttpResponseMessage> _retry = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = timeProvider }
        .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = MaxAttempts - 1,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = false,
            Delay = FirstBackoff,
            MaxDelay = MaxBackoff,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
            {
                { Exception: HttpRequestException or TimeoutRejectedException } => true,
                { Exception: TaskCanceledException } => !args.Context.CancellationToken.IsCancellationRequested,
                { Result: { } response } => IsRetryable(response),
                _ => false,
            }),
            DelayGenerator = args => ValueTask.FromResult(
                args.Outcome.Result is { } response && RetryAfter.Of(response, timeProvider) is { } wait
                    ? TimeSpan.FromTicks(Math.Clamp(wait.Ticks, 0, MaxBackoff.Ticks))
                    : (TimeSpan?)null),
            OnRetry = args =>
            {
                telemetry.ProviderRetried("telnyx");
                LogRetry(logger, args.Context.OperationKey, (int?)args.Outcome.Result?.StatusCode ?? 0, args.AttemptNumber + 1);
                return ValueTask.CompletedTask;
            },
        })
        .AddTimeout(AttemptTimeout)
        .Build();

    public async Task<DialResult> DialAsync(DialRequest request, CancellationToken cancellationToken)
    {
        var stream = request.Stream;
        var body = new DialCommand(
            options.ConnectionId,
            request.To,
            options.PhoneNumber,
            options.WebhookUrl.ToString(),
            ClientState(request.CallId),
            request.CommandId,
            TimeoutSecs: 30,
            stream?.Url.OriginalString,
            stream is null ? null : StreamTrack,
            stream?.Codec,
            stream is null ? null : StreamMode,
            stream?.Codec,
            stream?.SampleRate,
            stream?.AuthToken);
        var response = await SendAsync(HttpMethod.Post, "calls", "dial", JsonSerializer.Serialize(body, TelnyxJson.Default.DialCommand), cancellationToken);
        var data = ReadCall(response, "dial");
        string Required(string? value, string name) =>
            value is { Length: > 0 } ? value : throw new Providers.ProviderException("telnyx", $"dial response has no data.{name}", retryable: false);
        return new DialResult(Required(data?.CallControlId, "call_control_id"), Required(data?.CallLegId, "call_leg_id"), Required(data?.CallSessionId, "call_session_id"));
    }

    /// <remarks>
    /// Telnyx's answer takes no <c>stream_auth_token</c> nor <c>stream_bidirectional_sampling_rate</c> (the SDK's answer
    /// params have neither): the token travels in the stream URL, and each codec has its fixed rate.
    /// </remarks>
    public Task AnswerAsync(string callControlId, string callId, MediaStreamRequest? stream, CancellationToken cancellationToken) =>
        ActionAsync(
            callControlId,
            "answer",
            new AnswerCommand(
                ClientState(callId),
                callId,
                stream?.Url.OriginalString,
                stream is null ? null : StreamTrack,
                stream?.Codec,
                stream is null ? null : StreamMode,
                stream?.Codec),
            TelnyxJson.Default.AnswerCommand,
            cancellationToken);

    public Task StartStreamingAsync(string callControlId, MediaStreamRequest stream, string commandId, CancellationToken cancellationToken) =>
        ActionAsync(
            callControlId,
            "streaming_start",
            new StreamingStartCommand(
                stream.Url.OriginalString,
                StreamTrack,
                stream.Codec,
                StreamMode,
                stream.Codec,
                stream.SampleRate,
                stream.AuthToken,
                commandId),
            TelnyxJson.Default.StreamingStartCommand,
            cancellationToken);

    public Task SpeakAsync(string callControlId, string text, string language, CancellationToken cancellationToken) =>
        ActionAsync(
            callControlId,
            "speak",
            new SpeakCommand(text, settings.SpeakVoice, SpeakLanguage(language), "text", NewCommandId()),
            TelnyxJson.Default.SpeakCommand,
            cancellationToken);

    public Task StartTranscriptionAsync(string callControlId, string language, CancellationToken cancellationToken) =>
        ActionAsync(
            callControlId,
            "transcription_start",
            new TranscriptionStartCommand(
                settings.TranscriptionEngine,
                new TranscriptionEngineConfig(settings.TranscriptionEngine, language),
                "inbound",
                NewCommandId()),
            TelnyxJson.Default.TranscriptionStartCommand,
            cancellationToken);

    public Task StopTranscriptionAsync(string callControlId, CancellationToken cancellationToken) =>
        ActionAsync(callControlId, "transcription_stop", new PlainCommand(NewCommandId()), TelnyxJson.Default.PlainCommand, cancellationToken);

    public Task StartPlaybackAsync(string callControlId, Uri audioUrl, CancellationToken cancellationToken) =>
        ActionAsync(
            callControlId,
            "playback_start",
            new PlaybackStartCommand(
                audioUrl.ToString(),
                audioUrl.AbsolutePath.EndsWith(".wav", StringComparison.OrdinalIgnoreCase) ? "wav" : "mp3",
                NewCommandId()),
            TelnyxJson.Default.PlaybackStartCommand,
            cancellationToken);

    public Task TransferAsync(string callControlId, string to, CancellationToken cancellationToken) =>
        ActionAsync(callControlId, "transfer", new TransferCommand(to, NewCommandId()), TelnyxJson.Default.TransferCommand, cancellationToken);

    public async Task<CallState> GetCallAsync(string callControlId, CancellationToken cancellationToken)
    {
        try
        {
            var response = await SendAsync(HttpMethod.Get, $"calls/{Uri.EscapeDataString(callControlId)}", "get", null, cancellationToken);
            return new CallState(ReadCall(response, "get")?.IsAlive == true);
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
            await ActionAsync(callControlId, "hangup", new PlainCommand(NewCommandId()), TelnyxJson.Default.PlainCommand, cancellationToken);
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

    private static string ClientState(string callId) => Convert.ToBase64String(Encoding.UTF8.GetBytes(callId));

    private static string NewCommandId() => Guid.NewGuid().ToString();

    private static TelnyxCallData? ReadCall(byte[] response, string command)
    {
        try
        {
            return response.Length == 0 ? null : JsonSerializer.Deserialize(response, TelnyxJson.Default.TelnyxCallResponse)?.Data;
        }
        catch (JsonException e)
        {
            throw new Providers.ProviderException("telnyx", $"{command} response is malformed", retryable: false, e);
        }
    }

    private async Task ActionAsync<T>(string callControlId, string action, T body, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Post, $"calls/{Uri.EscapeDataString(callControlId)}/actions/{action}", action, JsonSerializer.Serialize(body, type), cancellationToken);

    private static bool IsRetryable(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;

    private async Task<byte[]> SendAsync(HttpMethod method, string path, string command, string? json, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(command, cancellationToken);
        try
        {
            using var response = await _retry.ExecuteAsync(
                async context =>
                {
                    using var request = new HttpRequestMessage(method, path)
                    {
                        Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"),
                    };
                    return await http.SendAsync(request, context.CancellationToken);
                },
                context);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return bytes;
            }

            telemetry.ProviderFailed("telnyx");
            throw new TelnyxApiException(response.StatusCode, TelnyxApiException.ParseErrors(bytes), IsRetryable(response));
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            telemetry.ProviderFailed("telnyx");
            throw new Providers.ProviderException("telnyx", $"{command} failed: Telnyx could not be reached", retryable: true, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telnyx {Command} answered {Status} on attempt {Attempt}; retrying with the same command_id")]
    private static partial void LogRetry(ILogger logger, string? command, int status, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Telnyx hangup: the call had already ended (90018)")]
    private static partial void LogAlreadyEnded(ILogger logger);
}
