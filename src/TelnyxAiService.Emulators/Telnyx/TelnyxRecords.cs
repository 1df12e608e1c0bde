using System.Text.Json;

namespace TelnyxAiService.Emulators.Telnyx;

/// <summary>One REST request the emulator answered (after authentication), with the status it answered.</summary>
/// <param name="Action">"dial", "get", or the action name ("speak", "hangup", …).</param>
/// <param name="Duplicate">True when the command_id had been seen: the stored result was replayed, nothing happened.</param>
public sealed record RecordedCommand(
    DateTimeOffset Timestamp,
    string Action,
    string? CallControlId,
    JsonElement Body,
    string? CommandId,
    int StatusCode,
    bool Duplicate);

/// <summary>One webhook delivery attempt, with the exact bytes and headers sent.</summary>
/// <param name="StatusCode">The receiver's answer, or null when it could not be reached.</param>
public sealed record DeliveredWebhook(
    DateTimeOffset Timestamp,
    string EventType,
    string EventId,
    string? CallControlId,
    int Attempt,
    Uri Url,
    byte[] Body,
    string Signature,
    string SignatureTimestamp,
    int? StatusCode)
{
    /// <summary>data.payload of the body.</summary>
    public JsonElement Payload
    {
        get
        {
            using var document = JsonDocument.Parse(Body);
            return document.RootElement.GetProperty("data").GetProperty("payload").Clone();
        }
    }
}

/// <summary>Telnyx fetching a playback_start audio_url.</summary>
public sealed record AudioFetch(DateTimeOffset Timestamp, Uri Url, int? StatusCode, int Bytes);
