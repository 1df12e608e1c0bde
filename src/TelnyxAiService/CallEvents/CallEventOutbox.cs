using System.Threading.Channels;

namespace TelnyxAiService.CallEvents;

/// <summary>
/// Whether ended calls are queued for the end-of-call webhook (<see cref="Storage.ICallStore.SetEndedAsync"/> writes the
/// delivery with the end), and the nudge that wakes <see cref="CallEventSender"/> when one is.
/// </summary>
public sealed class CallEventOutbox(CallEventsOptions options)
{
    private readonly Channel<bool> wakes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public bool Enabled => options.Enabled;

    /// <summary>Wakes the sender (at once if it waits, else when it next waits).</summary>
    public void Wake() => wakes.Writer.TryWrite(true);

    /// <summary>Completes when woken or after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            await wakes.Reader.WaitToReadAsync(either.Token);
            wakes.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }
}
