using TelnyxAiService.Telephony;

namespace TelnyxAiService.Storage;

/// <summary>
/// Durable calls: their parties, Telnyx ids and how they ended. Every method is one short transaction; timestamps of
/// state changes come from the store's <see cref="TimeProvider"/>. Answers and ends that need no reply go through
/// <see cref="CallStoreWriter"/> so the audio path never waits for the database.
/// </summary>
public interface ICallStore
{
    /// <summary>Stores a call before it is dialled. With a batch item id, also sets that item's last call id.</summary>
    Task InsertCallAsync(NewCall call, CancellationToken cancellationToken);

    /// <summary>Records the Telnyx ids of a placed call; status becomes <see cref="CallStatus.Dialing"/>.</summary>
    Task SetDialedAsync(string id, DialResult telnyx, CancellationToken cancellationToken);

    /// <summary>Status becomes <see cref="CallStatus.Answered"/> unless the call has already ended.</summary>
    Task SetAnsweredAsync(string id, CancellationToken cancellationToken);

    /// <summary>Closes the call; the first end wins. Returns false when it had already ended (or does not exist).</summary>
    Task<bool> SetEndedAsync(string id, CallStatus status, string? endReason, string? hangupCause, CancellationToken cancellationToken);

    Task<CallRecord?> GetCallAsync(string id, CancellationToken cancellationToken);

    Task<CallRecord?> FindByCallControlIdAsync(string callControlId, CancellationToken cancellationToken);

    /// <summary>Newest first, keyset paged.</summary>
    /// <exception cref="InvalidCursorException">The cursor was not produced by this store.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The limit is not 1 to 1000.</exception>
    Task<CallPage> ListCallsAsync(CallQuery query, CancellationToken cancellationToken);
}
