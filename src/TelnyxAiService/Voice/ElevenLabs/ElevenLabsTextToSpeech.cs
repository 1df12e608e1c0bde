using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using TelnyxAiService.Audio;
using TelnyxAiService.Providers;

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
        string? status = null;
        var message = raw.Length > 300 ? raw[..300] : raw;
        try
        {
            using var json = JsonDocument.Parse(raw);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("detail", out var detail))
            {
                switch (detail.ValueKind)
                {
                    case JsonValueKind.Object:
                        status = detail.TryGetProperty("status", out var s) ? s.GetString() : null;
                        message = detail.TryGetProperty("message", out var m) ? m.GetString() ?? message : message;
                        break;
                    case JsonValueKind.Array:
                        status = "validation_error";
                        message = string.Join("; ", detail.EnumerateArray().Select(ValidationProblem));
                        break;
                    case JsonValueKind.String:
                        message = detail.GetString()!;
                        break;
                }
            }
        }
        catch (JsonException)
        {
        }

        var retryable = status != "quota_exceeded" && (response.StatusCode == HttpStatusCode.TooManyRequests || code >= 500);
        return new ProviderException(Provider, $"HTTP {code}{(status is null ? "" : $" {status}")}: {message}", retryable);
    }

    private static string ValidationProblem(JsonElement item)
    {
        var location = item.TryGetProperty("loc", out var loc) && loc.ValueKind == JsonValueKind.Array
            ? string.Join('.', loc.EnumerateArray().Select(p => p.ToString()))
            : "?";
        var text = item.TryGetProperty("msg", out var msg) ? msg.GetString() : null;
        return $"{location}: {text}";
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "ElevenLabs first audio after {Milliseconds:0} ms")]
    private static partial void LogFirstAudio(ILogger logger, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ElevenLabs request failed, retrying once: {Reason}")]
    private static partial void LogRetry(ILogger logger, string reason);
}

internal sealed record VoiceSettings(
    [property: JsonPropertyName("stability")] double Stability,
    [property: JsonPropertyName("similarity_boost")] double SimilarityBoost,
    [property: JsonPropertyName("speed")] double Speed);

internal sealed record SpeechRequest(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("model_id")] string ModelId,
    [property: JsonPropertyName("language_code")] string LanguageCode,
    [property: JsonPropertyName("voice_settings")] VoiceSettings VoiceSettings)
{
    public static VoiceSettings DefaultVoiceSettings { get; } = new(0.5, 0.75, 1.0);
}

[JsonSerializable(typeof(SpeechRequest))]
internal sealed partial class ElevenLabsJson : JsonSerializerContext;
