using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using TelnyxAiService.Audio;

namespace TelnyxAiService.Telephony.Telnyx.MediaStream;

/// <summary>
/// The Telnyx media-stream dialect (JSON text frames; numbers as strings; <c>stream_id</c> at the top level), parsed and
/// written here and nowhere else.
/// </summary>
public abstract record MediaStreamMessage
{
    /// <summary>
    /// Reads one frame. Unknown events and fields are ignored; a known field that is missing or of the wrong type
    /// (including invalid base64, UTF-8 or surrogates) fails the frame with an error naming the field.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> json, [NotNullWhen(true)] out MediaStreamMessage? message, [NotNullWhen(false)] out string? error)
    {
        Frame? frame;
        try
        {
            frame = JsonSerializer.Deserialize(json, MediaStreamJson.Default.Frame);
        }
        catch (JsonException e)
        {
            (message, error) = (null, $"{e.Path ?? "$"} is malformed");
            return false;
        }

        (message, error) = frame switch
        {
            null or { Event: null } => Missing("event"),
            { Event: "connected" } => (new StreamConnected(), null),
            { Event: "start", Start: { CallControlId: { } callControlId, MediaFormat: { Encoding: { } encoding } format } start } =>
                (new StreamStart(frame.StreamId ?? "", callControlId, start.ClientState, encoding, format.SampleRate ?? 8000), null),
            { Event: "start", Start.CallControlId: not null } => Missing("start.media_format.encoding"),
            { Event: "start" } => Missing("start.call_control_id"),
            { Event: "media", Media: { Payload: { } payload } media } => (new StreamMedia(payload, media.Track ?? "inbound", frame.SequenceNumber, media.Chunk, media.Timestamp), null),
            { Event: "media" } => Missing("media.payload"),
            { Event: "dtmf", Dtmf.Digit: { } digit } => (new StreamDtmf(digit), null),
            { Event: "dtmf" } => Missing("dtmf.digit"),
            { Event: "mark", Mark.Name: { } name } => (new StreamMark(name), null),
            { Event: "mark" } => Missing("mark.name"),
            { Event: "stop" } => (new StreamStop(), null),
            { Event: "error", Payload: var payload } => (new StreamError(payload?.Code ?? 0, payload?.Title ?? "", payload?.Detail ?? ""), null),
            { Event: var other } => (new StreamUnknown(other), null),
        };
        return message is not null;
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

    private static (MediaStreamMessage?, string?) Missing(string field) => (null, $"{field} missing");
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

public sealed record StreamMedia(byte[] Payload, string Track, long? SequenceNumber, long? Chunk, long? Timestamp) : MediaStreamMessage;

public sealed record StreamDtmf(string Digit) : MediaStreamMessage;

public sealed record StreamMark(string Name) : MediaStreamMessage;

public sealed record StreamStop : MediaStreamMessage;

public sealed record StreamError(int Code, string Title, string Detail) : MediaStreamMessage;

public sealed record StreamUnknown(string Event) : MediaStreamMessage;

internal sealed record MarkFrame(string Event, MarkName Mark);

internal sealed record MarkName(string? Name);

/// <summary>Every field of every frame Telnyx sends that this service reads; absent ones are null.</summary>
internal sealed record Frame(string? Event, string? StreamId, long? SequenceNumber, StartFields? Start, MediaFields? Media, MarkName? Mark, DtmfFields? Dtmf, ErrorFields? Payload);

internal sealed record StartFields(string? CallControlId, string? ClientState, MediaFormatFields? MediaFormat);

internal sealed record MediaFormatFields(string? Encoding, long? SampleRate);

internal sealed record MediaFields(string? Track, long? Chunk, long? Timestamp, byte[]? Payload);

internal sealed record DtmfFields(string? Digit);

internal sealed record ErrorFields(int? Code, string? Title, string? Detail);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(MarkFrame))]
[JsonSerializable(typeof(Frame))]
internal sealed partial class MediaStreamJson : JsonSerializerContext;
