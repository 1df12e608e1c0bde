using System.Threading.Channels;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>
/// A channel the timeline writes to: a waiting reader is woken on the writer's thread, the timeline's, instead of
/// through the thread pool as a real channel's is, so the conversation reads it without a hop the loop must wait out.
/// </summary>
internal sealed class InlineChannel<T> : ChannelReader<T>
{
    private readonly Queue<T> _items = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource<bool>? _waiter;

    public void Write(T item)
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            _items.Enqueue(item);
            (waiter, _waiter) = (_waiter, null);
        }

        waiter?.TrySetResult(true);
    }

    public override bool TryRead(out T item)
    {
        lock (_gate)
        {
            return _items.TryDequeue(out item!);
        }
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_items.Count > 0)
            {
                return new ValueTask<bool>(true);
            }

            // No RunContinuationsAsynchronously: the reader's continuation runs inside Write.
            _waiter ??= new TaskCompletionSource<bool>();
            return new ValueTask<bool>(_waiter.Task.WaitAsync(cancellationToken));
        }
    }
}
