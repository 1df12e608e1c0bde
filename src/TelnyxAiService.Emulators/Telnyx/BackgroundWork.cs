using System.Collections.Concurrent;

namespace TelnyxAiService.Emulators.Telnyx;

/// <summary>Owns the emulator's background tasks: each is tracked until it ends and awaited on dispose.</summary>
internal sealed class BackgroundWork
{
    private readonly ConcurrentDictionary<int, Task> _running = new();
    private readonly ConcurrentQueue<Exception> _failures = new();

    public IReadOnlyList<Exception> Failures => [.. _failures];

    public void Run(Func<Task> work)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await work();
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e)
            {
                _failures.Enqueue(e);
            }
        });
        _running[task.Id] = task;
        _ = task.ContinueWith(t => _running.TryRemove(t.Id, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public async Task WaitAllAsync(TimeSpan timeout)
    {
        var deadline = Task.Delay(timeout);
        while (!_running.IsEmpty && !deadline.IsCompleted)
        {
            await Task.WhenAny(Task.WhenAll(_running.Values), deadline);
        }
    }
}
