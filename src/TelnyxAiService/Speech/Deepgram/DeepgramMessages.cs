using System.Text.Json;
using TelnyxAiService.Audio;

namespace TelnyxAiService.Speech.Deepgram;

/// <summary>The Deepgram live (v1) wire format: the listen URL, the control frames we send, the messages we read.</summary>
internal static class DeepgramMessages
{
    public static ReadOnlyMemory<byte> KeepAlive { get; } = Control("KeepAlive");

    public static ReadOnlyMemory<byte> Finalize { get; } = Control("Finalize");

    public static ReadOnlyMemory<byte> CloseStream { get; } = Control("CloseStream");

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
    /// <exception cref="JsonException">The message is not JSON, has a field of the wrong type or lacks one its type requires.</exception>
    public static SpeechEvent? Parse(ReadOnlyMemory<byte> message) =>
        JsonSerializer.Deserialize(message.Span, DeepgramJson.Default.DeepgramMessage) switch
        {
            DeepgramResults results => Transcript(results),
            DeepgramSpeechStarted => new SpeechStarted(),
            DeepgramUtteranceEnd => new UtteranceEnded(),
            _ => null,
        };

    private static TranscriptUpdate? Transcript(DeepgramResults results)
    {
        var transcript = results.Channel.Alternatives.Count > 0 ? results.Channel.Alternatives[0].Transcript : "";
        return !results.IsFinal && transcript.Length == 0 ? null : new TranscriptUpdate(transcript, results.IsFinal, results.SpeechFinal == true);
    }

    private static byte[] Control(string type) => JsonSerializer.SerializeToUtf8Bytes(new DeepgramControl(type), DeepgramJson.Default.DeepgramControl);
}
