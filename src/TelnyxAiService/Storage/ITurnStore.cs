namespace TelnyxAiService.Storage;

/// <summary>The transcript: each call's finished turns. Written through <see cref="CallStoreWriter"/>.</summary>
public interface ITurnStore
{
    /// <summary>Stores a finished turn; a repeat of the same (call, seq) is ignored, so a retried write is harmless.</summary>
    Task AppendTurnAsync(TurnRecord turn, CancellationToken cancellationToken);

    /// <summary>The call's turns in order.</summary>
    Task<IReadOnlyList<TurnRecord>> GetTurnsAsync(string callId, CancellationToken cancellationToken);
}
