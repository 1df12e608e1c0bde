using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;

namespace TelnyxAiService.Telephony.Telnyx;

/// <summary>
/// One Telnyx Call Control webhook, read from <see cref="TelnyxWebhookEnvelope"/>.
/// Fields an event does not carry are null. <see cref="Status"/> is the status of call.speak.ended,
/// call.playback.ended and call.gather.ended.
/// </summary>
internal sealed record TelnyxWebhookEvent(string Id, string EventType)
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
    private static readonly string[] Fields = [.. FieldsOf(TelnyxJson.Default.TelnyxWebhookEnvelope, "").OrderByDescending(f => f.Length)];

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

    /// <summary>
    /// Reads a delivery strictly: a known field of the wrong type, text that is not valid UTF-8 or holds an unpaired
    /// surrogate, or a missing data.id or data.event_type fails with an error naming the field. Unknown fields are ignored.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> body, [NotNullWhen(true)] out TelnyxWebhookEvent? evt, [NotNullWhen(false)] out string? error)
    {
        evt = null;
        TelnyxWebhookEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(body, TelnyxJson.Default.TelnyxWebhookEnvelope);
        }
        catch (JsonException e)
        {
            error = $"{FieldAt(e.Path)} is malformed";
            return false;
        }

        if (!Utf8.IsValid(body))
        {
            error = "body is not valid UTF-8";
            return false;
        }

        if (envelope?.Data is not { } data)
        {
            error = "data is missing";
            return false;
        }

        if (data.Id is not { Length: > 0 } id)
        {
            error = "data.id is missing";
            return false;
        }

        if (data.EventType is not { Length: > 0 } eventType)
        {
            error = "data.event_type is missing";
            return false;
        }

        var payload = data.Payload;
        evt = new TelnyxWebhookEvent(id, eventType)
        {
            OccurredAt = data.OccurredAt,
            Attempt = envelope.Meta?.Attempt,
            CallControlId = payload?.CallControlId,
            CallLegId = payload?.CallLegId,
            CallSessionId = payload?.CallSessionId,
            ClientState = DecodeClientState(payload?.ClientState),
            Direction = payload?.Direction,
            From = payload?.From,
            To = payload?.To,
            HangupCause = payload?.HangupCause,
            HangupSource = payload?.HangupSource,
            SipHangupCause = payload?.SipHangupCause,
            Transcript = payload?.TranscriptionData?.Transcript,
            IsFinal = payload?.TranscriptionData?.IsFinal,
            Confidence = payload?.TranscriptionData?.Confidence,
            Status = payload?.Status,
            Digit = payload?.Digit,
            FailureReason = payload?.FailureReason,
            StreamUrl = payload?.StreamUrl,
        };
        error = null;
        return true;
    }

    /// <summary>
    /// The field a <see cref="JsonException.Path"/> points into (<c>$.data.payload.to</c> gives <c>data.payload.to</c>), or
    /// "body": only our own field names, never a name taken from the request.
    /// </summary>
    private static string FieldAt(string? path)
    {
        var field = path is not null && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "";
        return Fields.FirstOrDefault(f => field == f || field.StartsWith(f + ".", StringComparison.Ordinal) || field.StartsWith(f + "[", StringComparison.Ordinal))
            ?? "body";
    }

    private static IEnumerable<string> FieldsOf(JsonTypeInfo type, string prefix) =>
        type.Kind != JsonTypeInfoKind.Object
            ? []
            : type.Properties.SelectMany(p => FieldsOf(TelnyxJson.Default.GetTypeInfo(p.PropertyType)!, $"{prefix}{p.Name}.").Prepend(prefix + p.Name));

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
