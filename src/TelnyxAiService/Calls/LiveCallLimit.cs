namespace TelnyxAiService.Calls;

/// <summary>
/// The cap on live calls this instance dialled (MAX_CONCURRENT_CALLS), shared by the API and the batches: a dial
/// takes a slot before it is placed and gives it back when its call ends, so parallel requests can never exceed it.
/// </summary>
public sealed class LiveCallLimit(CallsOptions options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.MaxConcurrentCalls, options.MaxConcurrentCalls);

    public int Available => _slots.CurrentCount;

    /// <summary>Takes a slot; false when all are taken.</summary>
    public bool TryTake() => _slots.Wait(0);

    /// <summary>Takes a slot once one is free.</summary>
    public Task TakeAsync(CancellationToken cancellationToken) => _slots.WaitAsync(cancellationToken);

    public void Release() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}
