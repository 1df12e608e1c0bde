using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TelnyxAiService.Telephony.Telnyx;

/// <summary>
/// One Telnyx Call Control webhook, read from <c>{"data":{event_type,id,occurred_at,payload},"meta":{attempt}}</c>.
/// Fields an event does not carry are null. <see cref="Status"/> is the status of call.speak.ended,
/// call.playback.ended and call.gather.ended.
/// </summary>
internal sealed record TelnyxWebhookEvent(string Id, string EventType)
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public DateTimeOffset? OccurredAt { get; init; }

    /// <summary>meta.attempt: 1 for the first delivery, higher on Telnyx's retries.</summary>
    public int? Attempt { get; init; }

    public string? CallControlId { get; init; }

    public string? CallLegId { get; init; }

    public string? CallSessionId { get; init; }

    /// <summary>client_state decoded from base64 to text; null when absent, null or not valid base64 UTF-8.</summary>
    public string? ClientState { get; init; }

    public string? Direction { get; init; }

    public string? From { get; init; }

    public string? To { get; init; }

    public string? HangupCause { get; init; }

    public string? HangupSource { get; init; }

    public string? SipHangupCause { get; init; }

    public string? Transcript { get; init; }

    public bool? IsFinal { get; init; }

    public double? Confidence { get; init; }

    public string? Status { get; init; }

    public string? Digit { get; init; }

    public string? FailureReason { get; init; }

    public string? StreamUrl { get; init; }

    public static bool TryParse(ReadOnlySpan<byte> body, out TelnyxWebhookEvent? evt, out string? error)
    {
        evt = null;
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            error = "body is not JSON";
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
            {
                error = "no data object";
                return false;
            }

            if (Text(data, "id") is not { Length: > 0 } id)
            {
                error = "no data.id";
                return false;
            }

            if (Text(data, "event_type") is not { Length: > 0 } eventType)
            {
                error = "no data.event_type";
                return false;
            }

            var payload = Object(data, "payload");
            var transcription = Object(payload, "transcription_data");
            evt = new TelnyxWebhookEvent(id, eventType)
            {
                OccurredAt = DateTimeOffset.TryParse(Text(data, "occurred_at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null,
                Attempt = Object(root, "meta") is { } meta && meta.TryGetProperty("attempt", out var attempt) && attempt.TryGetInt32(out var n) ? n : null,
                CallControlId = Text(payload, "call_control_id"),
                CallLegId = Text(payload, "call_leg_id"),
                CallSessionId = Text(payload, "call_session_id"),
                ClientState = DecodeClientState(Text(payload, "client_state")),
                Direction = Text(payload, "direction"),
                From = Text(payload, "from"),
                To = Text(payload, "to"),
                HangupCause = Text(payload, "hangup_cause"),
                HangupSource = Text(payload, "hangup_source"),
                SipHangupCause = Text(payload, "sip_hangup_cause"),
                Transcript = Text(transcription, "transcript"),
                IsFinal = transcription is { } t && t.TryGetProperty("is_final", out var final) && final.ValueKind is JsonValueKind.True or JsonValueKind.False ? final.GetBoolean() : null,
                Confidence = transcription is { } c && c.TryGetProperty("confidence", out var confidence) && confidence.TryGetDouble(out var value) ? value : null,
                Status = Text(payload, "status"),
                Digit = Text(payload, "digit"),
                FailureReason = Text(payload, "failure_reason"),
                StreamUrl = Text(payload, "stream_url"),
            };
            error = null;
            return true;
        }
    }

    private static JsonElement? Object(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;

    private static string? Text(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    private static string? DecodeClientState(string? base64)
    {
        if (base64 is null)
        {
            return null;
        }

        var bytes = new byte[base64.Length];
        try
        {
            return Convert.TryFromBase64String(base64, bytes, out var length) ? StrictUtf8.GetString(bytes, 0, length) : null;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
