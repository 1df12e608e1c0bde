using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using TelnyxAiService.Audio;
using TelnyxAiService.Providers;
using TelnyxAiService.Security;

namespace TelnyxAiService.Voice.ElevenLabs;

/// <summary>
/// ElevenLabs HTTP streaming text-to-speech (<c>POST /v1/text-to-speech/{voice_id}/stream</c>): audio chunks are
/// yielded as they arrive, in the call's own codec so no transcoding is needed. A 429, 5xx or connection failure is
/// retried once, immediately, but only before any audio has arrived.
/// </summary>
internal sealed partial class ElevenLabsTextToSpeech(HttpClient http, ElevenLabsOptions options, ILogger<ElevenLabsTextToSpeech> logger) : ITextToSpeech
{
    public const string Provider = "elevenlabs";

    /// <summary>3 = strong latency optimisations with the text normaliser still on (4 turns it off).</summary>
    private const int OptimizeStreamingLatency = 3;

    private const int ReadBufferBytes = 4096;

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

        var started = Stopwatch.GetTimestamp();
        using var response = await SendAsync(text, OutputFormat(format), cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[ReadBufferBytes];
        var carried = 0;
        var total = 0L;
        while (true)
        {
            int read;
            try
            {
                read = await body.ReadAsync(buffer.AsMemory(carried), cancellationToken);
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                throw new ProviderException(Provider, $"the audio stream broke after {total} bytes: {e.Message}", retryable: true, e);
            }

            if (read == 0)
            {
                break;
            }

            if (total == 0)
            {
                LogFirstAudio(logger, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

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
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string text, string outputFormat, CancellationToken cancellationToken)
    {
        var url = new Uri(
            $"{options.BaseUrl.AbsoluteUri.TrimEnd('/')}/v1/text-to-speech/{Uri.EscapeDataString(options.VoiceId)}/stream?output_format={outputFormat}&optimize_streaming_latency={OptimizeStreamingLatency}");
        var body = new SpeechRequest(text, options.ModelId, options.LanguageCode, SpeechRequest.DefaultVoiceSettings);
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = JsonContent.Create(body, ElevenLabsJson.Default.SpeechRequest),
            };
            request.Headers.Add("xi-api-key", options.ApiKey);
            request.Headers.Accept.ParseAdd("*/*");

            ProviderException failure;
            try
            {
                var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return response;
                }

                using (response)
                {
                    failure = await ErrorFromAsync(response, cancellationToken);
                }
            }
            catch (HttpRequestException e)
            {
                failure = new ProviderException(Provider, $"could not reach {options.BaseUrl.Host}: {e.Message}", retryable: true, e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                failure = new ProviderException(Provider, "timed out waiting for the response headers", retryable: true, e);
            }

            if (!failure.Retryable || attempt == 2)
            {
                throw failure;
            }

            LogRetry(logger, failure.Message);
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
}
