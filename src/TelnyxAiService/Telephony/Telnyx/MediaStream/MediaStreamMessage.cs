using System.Buffers;
using System.Text.Json;
using TelnyxAiService.Audio;

namespace TelnyxAiService.Telephony.Telnyx.MediaStream;

/// <summary>
/// The Telnyx media-stream dialect (JSON text frames; numbers as strings; <c>stream_id</c> at the top level), parsed and
/// written here and nowhere else.
/// </summary>
public abstract record MediaStreamMessage
{
    public static bool TryParse(ReadOnlySpan<byte> json, out MediaStreamMessage? message, out string? error)
    {
        message = null;
        error = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("event", out var eventName) || eventName.ValueKind != JsonValueKind.String)
            {
                error = "no event name";
                return false;
            }

            message = eventName.GetString() switch
            {
                "connected" => new StreamConnected(),
                "start" => ParseStart(root),
                "media" => ParseMedia(root),
                "dtmf" => new StreamDtmf(Text(Object(root, "dtmf"), "digit") ?? throw new FormatException("dtmf.digit missing")),
                "mark" => new StreamMark(Text(Object(root, "mark"), "name") ?? throw new FormatException("mark.name missing")),
                "stop" => new StreamStop(),
                "error" => ParseError(root),
                var other => new StreamUnknown(other ?? ""),
            };
            return true;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>An agent audio frame: the raw codec bytes of one frame, base64, no RTP header.</summary>
    public static byte[] Media(ReadOnlySpan<byte> payload)
    {
        var buffer = new ArrayBufferWriter<byte>(payload.Length * 4 / 3 + 48);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("event"u8, "media"u8);
            writer.WriteStartObject("media"u8);
            writer.WriteBase64String("payload"u8, payload);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Clear() => """{"event":"clear"}"""u8.ToArray();

    public static byte[] Mark(string name) => JsonSerializer.SerializeToUtf8Bytes(new MarkFrame("mark", new MarkName(name)), MediaStreamJson.Default.MarkFrame);

    private static StreamStart ParseStart(JsonElement root)
    {
        var start = Object(root, "start");
        var format = Object(start, "media_format");
        return new StreamStart(
            Text(root, "stream_id") ?? "",
            Text(start, "call_control_id") ?? throw new FormatException("start.call_control_id missing"),
            Text(start, "client_state"),
            Text(format, "encoding") ?? throw new FormatException("media_format.encoding missing"),
            Number(format, "sample_rate") ?? 8000);
    }

    private static StreamMedia ParseMedia(JsonElement root)
    {
        var media = Object(root, "media");
        var payload = Text(media, "payload") ?? throw new FormatException("media.payload missing");
        return new StreamMedia(Convert.FromBase64String(payload), Text(media, "track") ?? "inbound", Number(media, "chunk"));
    }

    private static StreamError ParseError(JsonElement root)
    {
        var payload = Object(root, "payload");
        return new StreamError((int)(Number(payload, "code") ?? 0), Text(payload, "title") ?? "", Text(payload, "detail") ?? "");
    }

    private static JsonElement Object(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : throw new FormatException($"{name} missing");

    private static string? Text(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Telnyx sends numbers as strings; accept both.</summary>
    private static long? Number(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetInt64(),
            JsonValueKind.String when long.TryParse(value.GetString(), out var n) => n,
            _ => null,
        };
    }
}

public sealed record StreamConnected : MediaStreamMessage;

public sealed record StreamStart(string StreamId, string CallControlId, string? ClientState, string Encoding, long SampleRate) : MediaStreamMessage
{
    /// <summary>The stream's audio format, or null when it is one this service does not speak.</summary>
    public AudioFormat? Format => (Encoding.ToUpperInvariant(), SampleRate) switch
    {
        ("PCMU", 8000) => AudioFormat.Pcmu8k,
        ("PCMA", 8000) => AudioFormat.Pcma8k,
        ("L16", 8000 or 16000) => new AudioFormat(AudioEncoding.L16, (int)SampleRate),
        _ => null,
    };
}

public sealed record StreamMedia(byte[] Payload, string Track, long? Chunk) : MediaStreamMessage;

public sealed record StreamDtmf(string Digit) : MediaStreamMessage;

public sealed record StreamMark(string Name) : MediaStreamMessage;

public sealed record StreamStop : MediaStreamMessage;

public sealed record StreamError(int Code, string Title, string Detail) : MediaStreamMessage;

public sealed record StreamUnknown(string Event) : MediaStreamMessage;

internal sealed record MarkFrame(string Event, MarkName Mark);

internal sealed record MarkName(string Name);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(MarkFrame))]
internal sealed partial class MediaStreamJson : System.Text.Json.Serialization.JsonSerializerContext;
