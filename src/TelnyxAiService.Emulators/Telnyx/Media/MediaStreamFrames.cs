using System.Buffers;
using System.Globalization;
using System.Text.Json;
using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.Telnyx.Media;

/// <summary>A frame the service sent on the media stream, parsed; <see cref="InvalidFrame"/> when Telnyx would answer with an error.</summary>
internal abstract record ServiceFrame;

internal sealed record AgentMediaFrame(byte[] Audio) : ServiceFrame;

internal sealed record ClearFrame : ServiceFrame;

internal sealed record MarkFrame(string Name) : ServiceFrame;

internal sealed record InvalidFrame(int Code, string Title, string Detail) : ServiceFrame;

/// <summary>The Telnyx media-streaming wire format (protocols.md §2): every number is a string, <c>stream_id</c> is top level.</summary>
internal static class MediaStreamFrames
{
    public const int MalformedFrame = 100003;
    public const int InvalidMedia = 100004;

    public static byte[] Connected() => Write(w =>
    {
        w.WriteString("event", "connected");
        w.WriteString("version", "1.0.0");
    });

    public static byte[] Start(long sequence, string streamId, MediaCallSettings call) => Write(w =>
    {
        w.WriteString("event", "start");
        w.WriteString("sequence_number", Number(sequence));
        w.WriteStartObject("start");
        w.WriteString("user_id", call.UserId);
        w.WriteString("call_control_id", call.CallControlId);
        w.WriteString("call_session_id", call.CallSessionId);
        w.WriteString("from", call.From);
        w.WriteString("to", call.To);
        w.WriteStartArray("tags");
        w.WriteEndArray();
        w.WriteString("client_state", call.ClientState);
        w.WriteStartObject("custom_parameters");
        w.WriteEndObject();
        w.WriteStartObject("media_format");
        w.WriteString("encoding", call.Format.Encoding);
        w.WriteNumber("sample_rate", call.Format.SampleRate);
        w.WriteNumber("channels", 1);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteString("stream_id", streamId);
    });

    public static byte[] Media(long sequence, string streamId, long chunk, long timestampMs, byte[] payload) => Write(w =>
    {
        w.WriteString("event", "media");
        w.WriteString("sequence_number", Number(sequence));
        w.WriteStartObject("media");
        w.WriteString("track", "inbound");
        w.WriteString("chunk", Number(chunk));
        w.WriteString("timestamp", Number(timestampMs));
        w.WriteBase64String("payload", payload);
        w.WriteEndObject();
        w.WriteString("stream_id", streamId);
    });

    public static byte[] Dtmf(long sequence, string streamId, DateTimeOffset occurredAt, string digit) => Write(w =>
    {
        w.WriteString("event", "dtmf");
        w.WriteString("stream_id", streamId);
        w.WriteString("occurred_at", occurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        w.WriteString("sequence_number", Number(sequence));
        w.WriteStartObject("dtmf");
        w.WriteString("digit", digit);
        w.WriteEndObject();
    });

    public static byte[] Mark(long sequence, string streamId, string name) => Write(w =>
    {
        w.WriteString("event", "mark");
        w.WriteString("stream_id", streamId);
        w.WriteString("sequence_number", Number(sequence));
        w.WriteStartObject("mark");
        w.WriteString("name", name);
        w.WriteEndObject();
    });

    public static byte[] Stop(long sequence, string streamId, MediaCallSettings call) => Write(w =>
    {
        w.WriteString("event", "stop");
        w.WriteString("sequence_number", Number(sequence));
        w.WriteStartObject("stop");
        w.WriteString("user_id", call.UserId);
        w.WriteString("call_control_id", call.CallControlId);
        w.WriteEndObject();
        w.WriteString("stream_id", streamId);
    });

    public static byte[] Error(string streamId, InvalidFrame error) => Write(w =>
    {
        w.WriteString("event", "error");
        w.WriteStartObject("payload");
        w.WriteNumber("code", error.Code);
        w.WriteString("title", error.Title);
        w.WriteString("detail", error.Detail);
        w.WriteEndObject();
        w.WriteString("stream_id", streamId);
    });

    /// <summary>Parses one text frame from the service (media, clear or mark); anything else is an <see cref="InvalidFrame"/>.</summary>
    public static ServiceFrame Parse(ReadOnlyMemory<byte> json, EmulatedAudioFormat format)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return Malformed("frame is not JSON");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("event", out var eventName) || eventName.ValueKind != JsonValueKind.String)
            {
                return Malformed("frame has no event");
            }

            return eventName.GetString() switch
            {
                "media" => ParseMedia(root, format),
                "clear" => new ClearFrame(),
                "mark" => root.TryGetProperty("mark", out var mark) && mark.ValueKind == JsonValueKind.Object
                    && mark.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                        ? new MarkFrame(name.GetString()!)
                        : Malformed("mark frame needs mark.name"),
                var other => Malformed($"unknown event '{other}'"),
            };
        }
    }

    public static InvalidFrame Malformed(string detail) => new(MalformedFrame, "malformed_frame", detail);

    private static ServiceFrame ParseMedia(JsonElement root, EmulatedAudioFormat format)
    {
        if (!root.TryGetProperty("media", out var media) || media.ValueKind != JsonValueKind.Object
            || !media.TryGetProperty("payload", out var payload) || payload.ValueKind != JsonValueKind.String)
        {
            return Malformed("media frame needs media.payload");
        }

        byte[] audio;
        try
        {
            audio = Convert.FromBase64String(payload.GetString()!);
        }
        catch (FormatException)
        {
            return new InvalidFrame(InvalidMedia, "invalid_media", "media payload is not base64");
        }

        if (audio.Length == 0 || audio.Length % format.BytesPerSample != 0)
        {
            return new InvalidFrame(InvalidMedia, "invalid_media", $"media payload of {audio.Length} bytes is not a whole number of {format.Encoding} samples");
        }

        return new AgentMediaFrame(audio);
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
