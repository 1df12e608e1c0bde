using System.Buffers;
using System.Text;
using System.Text.Json;

namespace TelnyxAiService.Emulators.Deepgram;

/// <summary>Writes the server messages of Deepgram live v1 in the shape recorded from nova-3.</summary>
internal static class ListenMessages
{
    private const string ModelUuid = "40bd3654-e622-47c4-a111-63a61b23bfe8";
    private const string ModelVersion = "2025-04-17.21547";
    private const string DiarizeModelUuid = "6ff6f59c-c349-443b-aba1-352de7d75943";

    /// <summary>One word of a transcript: times in seconds of audio.</summary>
    public readonly record struct Word(string Text, double Start, double End);

    public static string Results(
        ListenSettings settings,
        string requestId,
        double start,
        double duration,
        bool isFinal,
        bool speechFinal,
        bool fromFinalize,
        IReadOnlyList<Word> words) => Write(w =>
    {
        w.WriteString("type", "Results");
        w.WriteStartArray("channel_index");
        w.WriteNumberValue(0);
        w.WriteNumberValue(1);
        w.WriteEndArray();
        w.WriteNumber("duration", Math.Round(duration, 3));
        w.WriteNumber("start", Math.Round(start, 3));
        w.WriteBoolean("is_final", isFinal);
        w.WriteBoolean("speech_final", speechFinal);
        w.WriteStartObject("channel");
        w.WriteStartArray("alternatives");
        w.WriteStartObject();
        w.WriteString("transcript", string.Join(' ', words.Select(word => settings.Punctuate ? word.Text : Plain(word.Text))));
        w.WriteNumber("confidence", words.Count == 0 ? 0 : 0.99);
        w.WriteStartArray("words");
        foreach (var word in words)
        {
            w.WriteStartObject();
            w.WriteString("word", Plain(word.Text));
            w.WriteNumber("start", Math.Round(word.Start, 3));
            w.WriteNumber("end", Math.Round(word.End, 3));
            w.WriteNumber("confidence", 0.98);
            if (settings.Diarize)
            {
                w.WriteNumber("speaker", 0);
            }

            if (settings.Punctuate)
            {
                w.WriteString("punctuated_word", word.Text);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartObject("metadata");
        w.WriteString("request_id", requestId);
        w.WritePropertyName("model_info");
        ModelInfo(w, settings.Model);
        w.WriteString("model_uuid", ModelUuid);
        if (settings.Diarize)
        {
            w.WriteStartObject("diarize_info");
            w.WriteString("model_uuid", DiarizeModelUuid);
            w.WriteString("arch", "v1");
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteBoolean("from_finalize", fromFinalize);
    });

    public static string SpeechStarted(double timestamp) => Write(w =>
    {
        w.WriteString("type", "SpeechStarted");
        w.WriteStartArray("channel");
        w.WriteNumberValue(0);
        w.WriteEndArray();
        w.WriteNumber("timestamp", Math.Round(timestamp, 3));
    });

    public static string UtteranceEnd(double lastWordEnd) => Write(w =>
    {
        w.WriteString("type", "UtteranceEnd");
        w.WriteStartArray("channel");
        w.WriteNumberValue(0);
        w.WriteNumberValue(1);
        w.WriteEndArray();
        w.WriteNumber("last_word_end", Math.Round(lastWordEnd, 3));
    });

    public static string Metadata(ListenSettings settings, string requestId, byte[] sha256, DateTimeOffset created, double duration) => Write(w =>
    {
        w.WriteString("type", "Metadata");
        w.WriteString("transaction_key", "deprecated");
        w.WriteString("request_id", requestId);
        w.WriteString("sha256", Convert.ToHexStringLower(sha256));
        w.WriteString("created", created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteNumber("duration", Math.Round(duration, 3));
        w.WriteNumber("channels", 1);
        w.WriteStartArray("models");
        w.WriteStringValue(ModelUuid);
        w.WriteEndArray();
        w.WriteStartObject("model_info");
        w.WritePropertyName(ModelUuid);
        ModelInfo(w, settings.Model);
        w.WriteEndObject();
    });

    /// <summary>The body of an HTTP error, as Deepgram's REST errors are shaped.</summary>
    public static string Error(string code, string message, string requestId) => Write(w =>
    {
        w.WriteString("err_code", code);
        w.WriteString("err_msg", message);
        w.WriteString("request_id", requestId);
    });

    /// <summary>The word as Deepgram lists it without punctuation: lower case, letters, digits and apostrophes.</summary>
    public static string Plain(string token) =>
        new string([.. token.Where(c => char.IsLetterOrDigit(c) || c == '\'')]).ToLowerInvariant();

    /// <summary>model_info for a model name: "nova-3" is general-nova-3, "nova-2-phonecall" is phonecall-nova-2.</summary>
    private static void ModelInfo(Utf8JsonWriter w, string model)
    {
        var parts = model.Split('-', 3);
        var arch = parts.Length >= 2 ? $"{parts[0]}-{parts[1]}" : model;
        var variant = parts.Length == 3 ? parts[2] : "general";
        w.WriteStartObject();
        w.WriteString("name", $"{variant}-{arch}");
        w.WriteString("version", ModelVersion);
        w.WriteString("arch", arch);
        w.WriteEndObject();
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
