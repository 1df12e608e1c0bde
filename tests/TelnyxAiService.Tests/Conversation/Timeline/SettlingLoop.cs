namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>
/// One dedicated thread that runs a timeline and every continuation of the conversation under test, so a script can
/// tell when the conversation has done all it can at the current fake instant (<see cref="SettleAsync"/>) instead of
/// sleeping. The few hops the code makes through the thread pool (channel wake-ups, <c>CancelAsync</c>) are waited
/// for too: settled means nothing is queued here and the pool is neither holding nor running a work item.
/// </summary>
internal sealed class SettlingLoop : SynchronizationContext
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(20);

    private readonly Queue<(SendOrPostCallback Callback, object? State)> _work = new();
    private readonly object _gate = new();

    /// <summary>Runs <paramref name="body"/> on a new loop thread until it completes; the test awaits it from anywhere.</summary>
    public static Task<T> RunAsync<T>(Func<SettlingLoop, Task<T>> body)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var loop = new SettlingLoop();
        var thread = new Thread(() => loop.Pump(body, result)) { IsBackground = true, Name = "timeline" };
        thread.Start();
        return result.Task;
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            _work.Enqueue((d, state));
            Monitor.Pulse(_gate);
        }
    }

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("The timeline loop only posts.");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>
    /// Returns once everything the conversation can do without the clock moving or the caller acting has been done.
    /// Called on the loop thread; yields to the queued work until none is left and the thread pool is idle.
    /// </summary>
    public async Task SettleAsync()
    {
        var deadline = DateTime.UtcNow + SettleTimeout;
        while (!(Idle() && PoolIdle() && Idle()))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The conversation never settled: something is running that the timeline cannot see.");
            }

            if (Idle())
            {
                // Only the pool is busy (our hop or another test's work): let it have the CPU.
                Thread.Yield();
            }

            await Task.Yield();
        }
    }

    private bool Idle()
    {
        lock (_gate)
        {
            return _work.Count == 0;
        }
    }

    /// <summary>
    /// No work item waits in the pool and no pool thread is running one: a hop of ours is either queued or running until
    /// it has posted its continuation here.
    /// </summary>
    private static bool PoolIdle() => ThreadPool.PendingWorkItemCount == 0 && BusyPoolThreads() == 0;

    private static int BusyPoolThreads()
    {
        ThreadPool.GetMaxThreads(out var max, out _);
        ThreadPool.GetAvailableThreads(out var available, out _);
        return max - available;
    }

    private void Pump<T>(Func<SettlingLoop, Task<T>> body, TaskCompletionSource<T> result)
    {
        SetSynchronizationContext(this);
        Task<T> running;
        try
        {
            running = body(this);
        }
        catch (Exception e)
        {
            running = Task.FromException<T>(e);
        }

        // Wakes the pump when the body completes, wherever it completed.
        running.ContinueWith(_ => Post(static _ => { }, null), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        while (true)
        {
            (SendOrPostCallback Callback, object? State) next;
            lock (_gate)
            {
                while (_work.Count == 0 && !running.IsCompleted)
                {
                    Monitor.Wait(_gate);
                }

                if (_work.Count == 0)
                {
                    break;
                }

                next = _work.Dequeue();
            }

            next.Callback(next.State);
        }

        try
        {
            result.SetResult(running.GetAwaiter().GetResult());
        }
        catch (Exception e)
        {
            result.SetException(e);
        }
    }
}
