using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace TelnyxAiService.Tests.TestHost;

/// <summary>
/// Fake time that reports every delay (timer) the code under test starts, so a test can move the clock exactly to its
/// end once the code waits (and never before, which would leave it waiting for ever), and see how long it waited.
/// A timer counts when it is created or re-armed with a due time; timers of the <paramref name="unwatched"/> length (a
/// timeout armed on every attempt) are not reported.
/// </summary>
internal sealed class WatchedClock(TimeSpan? unwatched = null) : TimeProvider
{
    private readonly FakeTimeProvider fake = new();
    private readonly Channel<TimeSpan> delays = Channel.CreateUnbounded<TimeSpan>();

    public override DateTimeOffset GetUtcNow() => fake.GetUtcNow();

    public override long GetTimestamp() => fake.GetTimestamp();

    public override long TimestampFrequency => fake.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new WatchedTimer(fake.CreateTimer(callback, state, dueTime, period), this);
        Watch(dueTime);
        return timer;
    }

    /// <summary>Waits until the code waits, then moves the clock to the end of that wait.</summary>
    /// <returns>How long the code waited.</returns>
    public async Task<TimeSpan> AdvanceToNextDelayAsync()
    {
        var delay = await NextDelayAsync();
        fake.Advance(delay);
        return delay;
    }

    /// <summary>Waits until the code waits, leaving the clock where it is, so the test can change the world first.</summary>
    /// <returns>How long the code waits; <see cref="Advance"/> ends the wait.</returns>
    public async Task<TimeSpan> NextDelayAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        return await delays.Reader.ReadAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(20), ct);
    }

    public void Advance(TimeSpan delay) => fake.Advance(delay);

    private void Watch(TimeSpan dueTime)
    {
        if (dueTime != Timeout.InfiniteTimeSpan && dueTime != unwatched)
        {
            delays.Writer.TryWrite(dueTime);
        }
    }

    private sealed class WatchedTimer(ITimer timer, WatchedClock clock) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            clock.Watch(dueTime);
            return timer.Change(dueTime, period);
        }

        public void Dispose() => timer.Dispose();

        public ValueTask DisposeAsync() => timer.DisposeAsync();
    }
}
