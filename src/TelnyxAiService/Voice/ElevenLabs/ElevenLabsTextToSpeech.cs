using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Polly;
using Polly.Retry;
using TelnyxAiService.Audio;
using TelnyxAiService.Providers;
using TelnyxAiService.Security;

namespace TelnyxAiService.Voice.ElevenLabs;

/// <summary>
/// ElevenLabs HTTP streaming text-to-speech (<c>POST /v1/text-to-speech/{voice_id}/stream</c>): audio chunks are
/// yielded as they arrive, in the call's own codec so no transcoding is needed. A 429, 5xx, timeout or connection
/// failure is retried once, immediately, but only before the first audio byte: after it the caller has heard part of
/// the reply.
/// </summary>
internal sealed partial class ElevenLabsTextToSpeech : ITextToSpeech
{
    public const string Provider = "elevenlabs";

    /// <summary>3 = strong latency optimisations with the text normaliser still on (4 turns it off).</summary>
    private const int OptimizeStreamingLatency = 3;

    private const int ReadBufferBytes = 4096;

    private readonly HttpClient _http;
    private readonly ElevenLabsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ElevenLabsTextToSpeech> _logger;
    private readonly ResiliencePipeline _retry;
    private readonly Telemetry.ServiceTelemetry _telemetry;

    public ElevenLabsTextToSpeech(HttpClient http, ElevenLabsOptions options, Telemetry.ServiceTelemetry telemetry, TimeProvider time, ILogger<ElevenLabsTextToSpeech> logger)
    {
        _http = http;
        _telemetry = telemetry;
        _options = options;
        _time = time;
        _logger = logger;
        _retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = 1,
                Delay = TimeSpan.Zero,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is ProviderException { Retryable: true }),
                OnRetry = args =>
                {
                    _telemetry.ProviderRetried(Provider);
                    LogRetry(_logger, args.Outcome.Exception!.Message);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public static string OutputFormat(AudioFormat format) => format switch
    {
        { Encoding: AudioEncoding.Pcmu, SampleRate: 8000 } => "ulaw_8000",
        { Encoding: AudioEncoding.Pcma, SampleRate: 8000 } => "alaw_8000",
        { Encoding: AudioEncoding.L16, SampleRate: 8000 or 16000 or 22050 or 24000 or 44100 } => $"pcm_{format.SampleRate}",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "ElevenLabs has no output format for this audio format."),
    };

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> SynthesizeAsync(string text, AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            yield break;
        }

        var started = _time.GetTimestamp();
        var buffer = new byte[ReadBufferBytes];
        OpenedAudio opened;
        try
        {
            opened = await _retry.ExecuteAsync(ct => OpenAsync(text, OutputFormat(format), buffer, ct), cancellationToken);
        }
        catch (ProviderException)
        {
            _telemetry.ProviderFailed(Provider);
            throw;
        }

        await using var audio = opened;
        if (audio.FirstRead > 0)
        {
            LogFirstAudio(_logger, _time.GetElapsedTime(started).TotalMilliseconds);
        }

        var read = audio.FirstRead;
        var carried = 0;
        var total = 0L;
        while (read > 0)
        {
            total += read;

            // Yield whole samples only: an L16 chunk can end in the middle of one.
            var available = carried + read;
            var whole = available - (available % format.BytesPerSample);
            if (whole > 0)
            {
                yield return buffer.AsSpan(0, whole).ToArray();
            }

            carried = available - whole;
            buffer.AsSpan(whole, carried).CopyTo(buffer);
            read = await ReadAsync(audio.Body, buffer.AsMemory(carried), total, cancellationToken);
        }
    }

    /// <summary>One attempt: the request, then the first read of audio, so a failure before any audio can be retried.</summary>
    private async ValueTask<OpenedAudio> OpenAsync(string text, string outputFormat, byte[] buffer, CancellationToken cancellationToken)
    {
        var response = await SendAsync(text, outputFormat, cancellationToken);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new OpenedAudio(response, body, await ReadAsync(body, buffer, 0, cancellationToken));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static async Task<int> ReadAsync(Stream body, Memory<byte> buffer, long total, CancellationToken cancellationToken)
    {
        try
        {
            return await body.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            throw new ProviderException(Provider, $"the audio stream broke after {total} bytes: {e.Message}", retryable: true, e);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string text, string outputFormat, CancellationToken cancellationToken)
    {
        var url = new Uri(
            $"{_options.BaseUrl.AbsoluteUri.TrimEnd('/')}/v1/text-to-speech/{Uri.EscapeDataString(_options.VoiceId)}/stream?output_format={outputFormat}&optimize_streaming_latency={OptimizeStreamingLatency}");
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = JsonContent.Create(new SpeechRequest(text, _options.ModelId, _options.LanguageCode, SpeechRequest.DefaultVoiceSettings), ElevenLabsJson.Default.SpeechRequest),
        };
        request.Headers.Add("xi-api-key", _options.ApiKey);
        request.Headers.Accept.ParseAdd("*/*");
        try
        {
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            using (response)
            {
                throw await ErrorFromAsync(response, cancellationToken);
            }
        }
        catch (HttpRequestException e)
        {
            throw new ProviderException(Provider, $"could not reach {_options.BaseUrl.Host}: {e.Message}", retryable: true, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProviderException(Provider, "timed out waiting for the response headers", retryable: true, e);
        }
    }

    /// <summary>
    /// Turns an error reply into a <see cref="ProviderException"/>: <c>{"detail":{"status","message"}}</c>, the
    /// validation list <c>{"detail":[{"loc","msg","type"}]}</c>, or any other body. 429 and 5xx are retryable, except
    /// an exhausted quota.
    /// </summary>
    internal static async Task<ProviderException> ErrorFromAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var code = (int)response.StatusCode;
        var raw = await response.Content.ReadAsStringAsync(cancellationToken);
        ElevenLabsErrorDetail? detail = null;
        try
        {
            detail = JsonSerializer.Deserialize(raw, ElevenLabsJson.Default.ElevenLabsErrorBody)?.Detail;
        }
        catch (JsonException)
        {
        }

        var status = detail?.Status;
        var message = detail?.Problems is { } problems ? string.Join("; ", problems.Select(ValidationProblem)) : detail?.Message ?? raw;
        var retryable = status != "quota_exceeded" && (response.StatusCode == HttpStatusCode.TooManyRequests || code >= 500);
        return new ProviderException(Provider, $"HTTP {code}{(status is null ? "" : $" {LogText.Escape(status)}")}: {LogText.Escape(message)}", retryable);
    }

    private static string ValidationProblem(ElevenLabsValidationProblem problem) =>
        $"{(problem.Loc is { } loc ? string.Join('.', loc.Select(p => p.Text)) : "?")}: {problem.Msg}";

    [LoggerMessage(Level = LogLevel.Debug, Message = "ElevenLabs first audio after {Milliseconds:0} ms")]
    private static partial void LogFirstAudio(ILogger logger, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ElevenLabs request failed, retrying once: {Reason}")]
    private static partial void LogRetry(ILogger logger, string reason);

    /// <summary>A response whose audio has started: the body and how many bytes the first read put in the buffer.</summary>
    private sealed record OpenedAudio(HttpResponseMessage Response, Stream Body, int FirstRead) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Body.DisposeAsync();
            Response.Dispose();
        }
    }
}
