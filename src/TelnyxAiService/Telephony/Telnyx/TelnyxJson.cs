using System.Text.Json.Serialization;

namespace TelnyxAiService.Telephony.Telnyx;

/// <summary>A webhook delivery: <c>{"data":{...},"meta":{attempt,delivered_to}}</c>.</summary>
internal sealed record TelnyxWebhookEnvelope(TelnyxWebhookData? Data, TelnyxWebhookMeta? Meta);

internal sealed record TelnyxWebhookData(string? EventType, string? Id, DateTimeOffset? OccurredAt, string? RecordType, TelnyxWebhookPayload? Payload);

internal sealed record TelnyxWebhookMeta(int? Attempt, string? DeliveredTo);

/// <summary>The payload fields the service reads, across every event type it handles.</summary>
internal sealed record TelnyxWebhookPayload(
    string? CallControlId,
    string? CallLegId,
    string? CallSessionId,
    string? ClientState,
    string? Direction,
    string? From,
    string? To,
    string? HangupCause,
    string? HangupSource,
    string? SipHangupCause,
    TelnyxTranscriptionData? TranscriptionData,
    string? Status,
    string? Digit,
    string? FailureReason,
    string? StreamUrl);

internal sealed record TelnyxTranscriptionData(string? Transcript, bool? IsFinal, double? Confidence);

/// <summary>What <c>POST /webhook/telnyx</c> answers with a 200: accepted, duplicate, answering, relayed or ignored.</summary>
internal sealed record WebhookAck(string Status);

internal sealed record DialCommand(
    string ConnectionId,
    string To,
    string From,
    string WebhookUrl,
    string ClientState,
    string CommandId,
    int TimeoutSecs,
    string? StreamUrl = null,
    string? StreamTrack = null,
    string? StreamCodec = null,
    string? StreamBidirectionalMode = null,
    string? StreamBidirectionalCodec = null,
    int? StreamBidirectionalSamplingRate = null,
    string? StreamAuthToken = null);

internal sealed record AnswerCommand(
    string ClientState,
    string CommandId,
    string? StreamUrl = null,
    string? StreamTrack = null,
    string? StreamCodec = null,
    string? StreamBidirectionalMode = null,
    string? StreamBidirectionalCodec = null);

/// <summary><c>streaming_start</c>: the stream fields dial sends, on a call that is already up.</summary>
internal sealed record StreamingStartCommand(
    string StreamUrl,
    string StreamTrack,
    string StreamCodec,
    string StreamBidirectionalMode,
    string StreamBidirectionalCodec,
    int StreamBidirectionalSamplingRate,
    string StreamAuthToken,
    string CommandId);

internal sealed record SpeakCommand(string Payload, string Voice, string Language, string PayloadType, string CommandId);

internal sealed record TranscriptionStartCommand(string TranscriptionEngine, TranscriptionEngineConfig TranscriptionEngineConfig, string TranscriptionTracks, string CommandId);

internal sealed record TranscriptionEngineConfig(string TranscriptionEngine, string Language);

internal sealed record PlaybackStartCommand(string AudioUrl, string AudioType, string CommandId);

internal sealed record TransferCommand(string To, string CommandId);

/// <summary>A command with no field but its command_id: hangup, transcription_stop.</summary>
internal sealed record PlainCommand(string CommandId);

/// <summary>The answer to dial and to <c>GET /calls/{id}</c>: <c>{"data":{call_control_id,call_leg_id,call_session_id,is_alive}}</c>.</summary>
internal sealed record TelnyxCallResponse(TelnyxCallData? Data);

internal sealed record TelnyxCallData(string? CallControlId, string? CallLegId, string? CallSessionId, bool? IsAlive);

/// <summary>An error answer: <c>{"errors":[{code,title,detail}]}</c>.</summary>
internal sealed record TelnyxErrorBody(IReadOnlyList<TelnyxErrorEntry>? Errors);

internal sealed record TelnyxErrorEntry(string? Code, string? Title, string? Detail);

/// <summary>The Telnyx Call Control wire formats, in snake_case, null fields left out, duplicate keys refused.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(TelnyxWebhookEnvelope))]
[JsonSerializable(typeof(WebhookAck))]
[JsonSerializable(typeof(DialCommand))]
[JsonSerializable(typeof(AnswerCommand))]
[JsonSerializable(typeof(StreamingStartCommand))]
[JsonSerializable(typeof(SpeakCommand))]
[JsonSerializable(typeof(TranscriptionStartCommand))]
[JsonSerializable(typeof(PlaybackStartCommand))]
[JsonSerializable(typeof(TransferCommand))]
[JsonSerializable(typeof(PlainCommand))]
[JsonSerializable(typeof(TelnyxCallResponse))]
[JsonSerializable(typeof(TelnyxErrorBody))]
internal sealed partial class TelnyxJson : JsonSerializerContext;
