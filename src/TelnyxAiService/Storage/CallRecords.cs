using TelnyxAiService.Llm;

namespace TelnyxAiService.Storage;

/// <summary>Where a call got to. Stored as snake_case text (<c>no_answer</c>, <c>interrupted_by_restart</c>).</summary>
public enum CallStatus
{
    Queued,
    Dialing,
    Answered,
    Completed,
    Failed,
    Busy,
    NoAnswer,

    /// <summary>Stored by versions before leases, which ended the calls a crash left open; now they are taken over.</summary>
    InterruptedByRestart,
}

public enum CallDirection
{
    Outbound,
    Inbound,

    /// <summary>Someone talking to the agent from the console in a browser (<see cref="BrowserCalls.BrowserCallEndpoints"/>): no Telnyx leg.</summary>
    Browser,
}

/// <summary>A call as stored before it is dialled (status <see cref="CallStatus.Queued"/>).</summary>
/// <param name="Id">Our call id (also the dial's <c>client_state</c>).</param>
/// <param name="Phone">The other party's E.164 number.</param>
/// <param name="InstanceId">
/// The lease holder that runs the call (<see cref="StorageOptions.LeaseHolder"/>): while its lease is renewed no other
/// instance takes the call over (<see cref="ILeaseStore.TakeOverAsync"/>).
/// </param>
/// <param name="StreamToken">The secret its media stream presents; kept so that another instance can accept the stream.</param>
/// <param name="StreamFormat">The media stream's audio (<c>PCMU/8000</c>, <c>L16/16000</c>); null in the Call Control flow.</param>
public sealed record NewCall(
    string Id,
    CallDirection Direction,
    string Phone,
    string InstanceId,
    string? Name = null,
    string? Context = null,
    string? Greeting = null,
    string? BatchId = null,
    string? BatchItemId = null,
    string? StreamToken = null,
    string? StreamFormat = null);

public sealed record CallRecord(
    string Id,
    CallDirection Direction,
    string Phone,
    string? Name,
    string? Context,
    string? Greeting,
    CallStatus Status,
    string InstanceId,
    string? CallControlId,
    string? CallLegId,
    string? CallSessionId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DialedAt,
    DateTimeOffset? AnsweredAt,
    DateTimeOffset? EndedAt,
    string? EndReason,
    string? HangupCause,
    string? BatchId,
    string? BatchItemId,
    string? StreamToken = null,
    string? StreamFormat = null);

/// <summary>Filter and page for <see cref="ICallStore.ListCallsAsync"/>; newest calls first.</summary>
/// <param name="Phone">The other party's number, matched exactly.</param>
/// <param name="From">Calls created at or after this instant.</param>
/// <param name="To">Calls created before this instant.</param>
/// <param name="Cursor">
/// The <see cref="CallPage.NextCursor"/> of the previous page, or null for the first page. It holds a position only: the
/// next page applies this query's filters from there.
/// </param>
public sealed record CallQuery(
    CallStatus? Status = null,
    string? BatchId = null,
    int Limit = 50,
    string? Cursor = null,
    CallDirection? Direction = null,
    string? Phone = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null);

/// <param name="NextCursor">Opaque; null on the last page.</param>
public sealed record CallPage(IReadOnlyList<CallRecord> Calls, string? NextCursor);

/// <summary>A cursor that this store did not produce. The read API answers 400.</summary>
public sealed class InvalidCursorException(string message) : Exception(message);

/// <summary>Per-turn latency in milliseconds; a stage that did not happen (or was not measured) is null.</summary>
public sealed record TurnLatency(
    int? EndOfSpeechToDecision = null,
    int? DecisionToFirstToken = null,
    int? FirstTokenToFirstSentence = null,
    int? SentenceToTtsFirstByte = null,
    int? TtsFirstByteToFirstFrame = null,
    int? VoiceToVoice = null);

/// <param name="Seq">The turn's position in the call, from 0; writing the same (call, seq) twice keeps the first.</param>
/// <param name="Interrupted">The caller barged in; <paramref name="Text"/> holds only what was heard.</param>
public sealed record TurnRecord(
    string CallId,
    int Seq,
    Speaker Speaker,
    string Text,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    bool Interrupted,
    TurnLatency Latency);

/// <param name="EventId">The Telnyx webhook's <c>data.id</c>.</param>
/// <param name="CallId">Our call id when known.</param>
public sealed record CallEvent(string EventId, string? CallId, string EventType, DateTimeOffset ReceivedAt);
