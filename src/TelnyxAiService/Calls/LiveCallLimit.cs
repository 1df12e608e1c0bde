namespace TelnyxAiService.Calls;

/// <summary>
/// The cap on live calls this instance dialled (MAX_CONCURRENT_CALLS), shared by the API and the campaigns: a dial
/// takes a slot before it is placed and gives it back when its call ends, so parallel requests can never exceed it.
/// </summary>
public sealed class LiveCallLimit(CallsOptions options)
{
    private int _live;

    public int Available => options.MaxConcurrentCalls - Volatile.Read(ref _live);

    /// <summary>Takes a slot; false when all are taken.</summary>
    public bool TryTake()
    {
        while (true)
        {
            var live = Volatile.Read(ref _live);
            if (live >= options.MaxConcurrentCalls)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _live, live + 1, live) == live)
            {
                return true;
            }
        }
    }

    public void Release() => Interlocked.Decrement(ref _live);
}
