namespace TelnyxAiService.Storage;

/// <summary>
/// The outbox of the end-of-call webhook: one delivery per ended call, written with the call's end
/// (<see cref="ICallStore.SetEndedAsync"/>) and kept until it is delivered or given up.
/// </summary>
public interface ICallEventStore
{
    /// <summary>
    /// Takes up to <paramref name="limit"/> deliveries due at <paramref name="now"/>, oldest due first, and holds each
    /// until <paramref name="holdUntil"/> (its next attempt is pushed there), so that no other instance takes it meanwhile.
    /// </summary>
    Task<IReadOnlyList<CallEventDelivery>> ClaimDueAsync(int limit, DateTimeOffset now, DateTimeOffset holdUntil, CancellationToken cancellationToken);

    /// <summary>Counts a failed attempt and its error; the delivery is next due at <paramref name="nextAttemptAt"/>, or never (given up) when null.</summary>
    Task RecordFailureAsync(string callId, string error, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken);

    /// <summary>Counts the attempt that the receiver accepted; the delivery is never due again.</summary>
    Task MarkDeliveredAsync(string callId, DateTimeOffset deliveredAt, CancellationToken cancellationToken);

    /// <summary>Makes a held, undelivered delivery due at <paramref name="dueAt"/> (this instance stops sending it).</summary>
    Task ReleaseAsync(string callId, DateTimeOffset dueAt, CancellationToken cancellationToken);
}

/// <param name="EventId">Sent with every attempt, so that the receiver can tell a repeat.</param>
/// <param name="CreatedAt">When the call's end was stored.</param>
/// <param name="Attempts">Attempts made before this claim.</param>
public sealed record CallEventDelivery(string CallId, string EventId, DateTimeOffset CreatedAt, int Attempts);
