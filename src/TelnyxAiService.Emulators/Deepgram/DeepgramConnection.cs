using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;

namespace TelnyxAiService.Emulators.Deepgram;

/// <summary>What one accepted /v1/listen connection received and sent, for assertions.</summary>
public sealed class DeepgramConnection
{
    private readonly ConcurrentQueue<DeepgramControlMessage> _controlMessages = new();
    private readonly ConcurrentQueue<string> _sentMessages = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _bytesReceived;

    internal DeepgramConnection(int index, HttpRequest request)
    {
        Index = index;
        QueryString = request.QueryString.Value ?? "";
        Query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString());
        Headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>0-based, in the order connections were accepted.</summary>
    public int Index { get; }

    /// <summary>The raw query string, with its leading '?'.</summary>
    public string QueryString { get; }

    public IReadOnlyDictionary<string, string> Query { get; }

    public IReadOnlyDictionary<string, string> Headers { get; }

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Text frames from the client (KeepAlive, Finalize, CloseStream, …) with the audio time they arrived at.</summary>
    public IReadOnlyList<DeepgramControlMessage> ControlMessages => [.. _controlMessages];

    /// <summary>The JSON text frames sent to the client, in order.</summary>
    public IReadOnlyList<string> SentMessages => [.. _sentMessages];

    /// <summary>True when the emulator aborted the connection (<see cref="DeepgramEmulatorOptions.DropConnectionAfter"/>).</summary>
    public bool Dropped { get; private set; }

    /// <summary>The close code the emulator sent, if it sent one.</summary>
    public WebSocketCloseStatus? CloseStatus { get; private set; }

    /// <summary>Completes when the connection is over.</summary>
    public Task Ended => _ended.Task;

    internal void AddBytes(int count) => Interlocked.Add(ref _bytesReceived, count);

    internal void RecordControl(DeepgramControlMessage message) => _controlMessages.Enqueue(message);

    internal void RecordSent(string json) => _sentMessages.Enqueue(json);

    internal void MarkDropped() => Dropped = true;

    internal void MarkClosed(WebSocketCloseStatus status) => CloseStatus = status;

    internal void End() => _ended.TrySetResult();
}

/// <summary>A client text frame: its <c>type</c> (or "invalid") and the audio time received before it.</summary>
public sealed record DeepgramControlMessage(string Type, TimeSpan AudioTime);
