using System.Threading.Channels;

namespace TelnyxAiService.Background;

/// <summary>
/// A bounded queue of work with one consumer task that it owns: jobs run one at a time, in the order they were queued,
/// so whoever queues them never waits for the work. <see cref="StopAsync"/> stops taking jobs and runs the queued ones;
/// when its token fires, the token given to the jobs is cancelled and the rest still run, cancelled, so each can count
/// or log that it was not done. A job must not throw.
/// </summary>
internal sealed class BackgroundQueue(int capacity) : IAsyncDisposable
{
    private readonly Channel<Entry> _queue =
        Channel.CreateBounded<Entry>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _gate = new();
    private Task? _consumer;

    /// <summary>Jobs queued behind the one running.</summary>
    public int Pending => _queue.Reader.Count;

    /// <summary>Queues without waiting; false when the queue is full or stopped.</summary>
    public bool TryEnqueue(Func<CancellationToken, Task> job) => _queue.Writer.TryWrite(new Entry(job, null));

    /// <summary>Queues; completes at once unless the queue is full.</summary>
    public ValueTask EnqueueAsync(Func<CancellationToken, Task> job, CancellationToken cancellationToken) =>
        _queue.Writer.WriteAsync(new Entry(job, null), cancellationToken);

    /// <summary>Queues, and completes once the job has run (and every job queued before it).</summary>
    public async Task EnqueueAndWaitAsync(Func<CancellationToken, Task> job, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new Entry(job, done), cancellationToken);
        await done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Completes once every job queued before it has run.</summary>
    public Task FlushAsync(CancellationToken cancellationToken) => EnqueueAndWaitAsync(_ => Task.CompletedTask, cancellationToken);

    /// <summary>Starts the consumer (once).</summary>
    public void Start() => EnsureConsuming();

    /// <summary>Stops taking jobs and runs the queued ones; when <paramref name="cancellationToken"/> fires, gives up on the rest.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        var consuming = EnsureConsuming();
        try
        {
            await consuming.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _abort.CancelAsync();
            await consuming;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _abort.Dispose();
    }

    private Task EnsureConsuming()
    {
        lock (_gate)
        {
            return _consumer ??= Task.Run(ConsumeAsync);
        }
    }

    private async Task ConsumeAsync()
    {
        await foreach (var entry in _queue.Reader.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                await entry.Job(_abort.Token);
            }
            finally
            {
                entry.Done?.TrySetResult();
            }
        }
    }

    /// <param name="Done">Completed once the job has run, for a caller that waits.</param>
    private sealed record Entry(Func<CancellationToken, Task> Job, TaskCompletionSource? Done);
}
