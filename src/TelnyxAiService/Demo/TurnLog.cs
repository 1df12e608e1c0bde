using TelnyxAiService.Conversation;

namespace TelnyxAiService.Demo;

/// <summary>
/// Collects each turn's latency breakdown from the service's own log event ("Call … reply N: decided=… voice=…"),
/// which carries the <see cref="TurnTimings"/> as a structured field, in the order the turns were measured; and counts
/// barge-ins ("the caller interrupted reply N"), which show even when the caller cut the agent before a whole sentence
/// was heard (such a reply leaves nothing in the history).
/// </summary>
internal sealed class TurnLog : ILoggerProvider, ILogger
{
    public static readonly string Category = typeof(StreamConversation).FullName!;

    private readonly Queue<TurnTimings> _turns = new();
    private readonly Lock _gate = new();
    private int _bargeIns;

    public int BargeIns => Volatile.Read(ref _bargeIns);

    public ILogger CreateLogger(string categoryName) => categoryName == Category ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>The oldest measured turn not taken yet, if any.</summary>
    public TurnTimings? TryTake()
    {
        lock (_gate)
        {
            return _turns.TryDequeue(out var latency) ? latency : null;
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Name == "LogBargeIn")
        {
            Interlocked.Increment(ref _bargeIns);
        }

        if (state is IReadOnlyList<KeyValuePair<string, object?>> fields && fields.FirstOrDefault(f => f.Key == "Latency").Value is TurnTimings latency)
        {
            lock (_gate)
            {
                _turns.Enqueue(latency);
            }
        }
    }

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public void Dispose()
    {
    }
}
