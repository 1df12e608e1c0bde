using System.Text.Json.Serialization;
using TelnyxAiService.Calls;
using TelnyxAiService.Recordings;
using TelnyxAiService.Storage;

namespace TelnyxAiService.CallEvents;

/// <summary>The body POSTed to <c>CALL_EVENTS_URL</c> when a call has ended (<c>type</c> is <c>call.ended</c>).</summary>
/// <param name="Id">The event id: the same on every attempt, and in the <c>Telnyx-AI-Event-Id</c> header.</param>
/// <param name="CreatedAt">When the call's end was stored.</param>
internal sealed record CallEndedEvent(string Id, string Type, DateTimeOffset CreatedAt, EndedCall Call)
{
    public const string EventType = "call.ended";
}

/// <param name="Outcome">The stored status: completed, no_answer, busy, failed…</param>
/// <param name="DurationSeconds">Talk time, from answer to end; 0 when the call was never answered.</param>
/// <param name="Transcript">The turns in order, each with its latency by stage (as <c>GET /api/calls/{id}</c> shows them).</param>
/// <param name="Recording">Null when recording is off.</param>
internal sealed record EndedCall(
    string CallId,
    string Direction,
    string Phone,
    string? Name,
    string? BatchId,
    string Outcome,
    string? EndReason,
    string? HangupCause,
    DateTimeOffset CreatedAt,
    DateTimeOffset? AnsweredAt,
    DateTimeOffset? EndedAt,
    double DurationSeconds,
    IReadOnlyList<TurnView> Transcript,
    RecordingView? Recording)
{
    public static EndedCall Of(CallRecord call, IReadOnlyList<TurnRecord> turns, RecordingView? recording) => new(
        call.Id,
        StorageText<CallDirection>.Of(call.Direction),
        call.Phone,
        call.Name,
        call.BatchId,
        StorageText<CallStatus>.Of(call.Status),
        call.EndReason,
        call.HangupCause,
        call.CreatedAt,
        call.AnsweredAt,
        call.EndedAt,
        call is { AnsweredAt: { } answered, EndedAt: { } ended } ? Math.Round((ended - answered).TotalSeconds, 1) : 0,
        [.. turns.Select(TurnView.Of)],
        recording);
}

/// <summary>Where the recording is: always the API path; the file, S3 key and a GET URL (valid an hour) once it has been saved.</summary>
internal sealed record RecordingView(string ApiPath, string? LocalPath, string? S3Key, Uri? DownloadUrl)
{
    public static RecordingView Of(string callId, RecordingLocation? saved) =>
        new($"/api/calls/{Uri.EscapeDataString(callId)}/recording", saved?.LocalPath, saved?.S3Key, saved?.DownloadUrl);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CallEndedEvent))]
internal sealed partial class CallEventsJson : JsonSerializerContext;
