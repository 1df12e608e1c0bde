using System.Text.Json;
using TelnyxAiService.Audio;

namespace TelnyxAiService.Speech.Deepgram;

/// <summary>The Deepgram live (v1) wire format: the listen URL, the control frames we send, the messages we read.</summary>
internal static class DeepgramMessages
{
    public static ReadOnlyMemory<byte> KeepAlive { get; } = """{"type":"KeepAlive"}"""u8.ToArray();

    public static ReadOnlyMemory<byte> Finalize { get; } = """{"type":"Finalize"}"""u8.ToArray();

    public static ReadOnlyMemory<byte> CloseStream { get; } = """{"type":"CloseStream"}"""u8.ToArray();

    public static Uri ListenUri(DeepgramOptions options, AudioFormat format)
    {
        var encoding = format.Encoding switch
        {
            AudioEncoding.Pcmu => "mulaw",
            AudioEncoding.Pcma => "alaw",
            _ => "linear16",
        };
        var query = $"model={Uri.EscapeDataString(options.Model)}&language={Uri.EscapeDataString(options.Language)}" +
            $"&encoding={encoding}&sample_rate={format.SampleRate}&channels=1&interim_results=true" +
            $"&endpointing={options.EndpointingMs}&utterance_end_ms={options.UtteranceEndMs}" +
            "&vad_events=true&smart_format=true&punctuate=true";
        return new UriBuilder(options.Url) { Query = query }.Uri;
    }

    /// <summary>
    /// The speech event a server message carries, or null for messages that carry none (Metadata, unknown types,
    /// interim results without words).
    /// </summary>
    /// <exception cref="JsonException">The message is not JSON or lacks a field its type requires.</exception>
    public static SpeechEvent? Parse(ReadOnlyMemory<byte> message)
    {
        using var document = JsonDocument.Parse(message);
        var root = document.RootElement;
        try
        {
            return root.GetProperty("type").GetString() switch
            {
                "Results" => Results(root),
                "SpeechStarted" => new SpeechStarted(),
                "UtteranceEnd" => new UtteranceEnded(),
                _ => null,
            };
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new JsonException($"Deepgram message lacks a required field: {e.Message}", e);
        }
    }

    private static TranscriptUpdate? Results(JsonElement root)
    {
        var alternatives = root.GetProperty("channel").GetProperty("alternatives");
        var transcript = alternatives.GetArrayLength() > 0 ? alternatives[0].GetProperty("transcript").GetString() ?? "" : "";
        var isFinal = root.GetProperty("is_final").GetBoolean();
        var speechFinal = root.TryGetProperty("speech_final", out var value) && value.GetBoolean();
        return !isFinal && transcript.Length == 0 ? null : new TranscriptUpdate(transcript, isFinal, speechFinal);
    }
}
