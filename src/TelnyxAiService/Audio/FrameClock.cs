namespace TelnyxAiService.Audio;

/// <summary>
/// One tick every 10 ms shared by every call's paced audio, instead of a timer per frame per call: at hundreds of
/// calls that is the difference between a few timer events a second and tens of thousands.
/// </summary>
public sealed class FrameClock : IAsyncDisposable
{
    public static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(10);

    private readonly PeriodicTimer _timer;
    private readonly Task _ticking;
    private TaskCompletionSource _tick = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FrameClock(TimeProvider time)
    {
        _timer = new PeriodicTimer(Resolution, time);
        _ticking = TickAsync();
    }

    /// <summary>Completes at the next tick.</summary>
    public Task NextTickAsync(CancellationToken cancellationToken) => Volatile.Read(ref _tick).Task.WaitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _timer.Dispose();
        await _ticking;
    }

    private async Task TickAsync()
    {
        while (await _timer.WaitForNextTickAsync())
        {
            Interlocked.Exchange(ref _tick, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        _tick.TrySetResult();
    }
}
