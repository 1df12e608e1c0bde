using System.Security.Cryptography;
using System.Threading.Channels;
using TelnyxAiService.Llm;

namespace TelnyxAiService.Conversation;

public enum CallStatus
{
    Dialing,
    Answered,
    Ended,
}

/// <summary>
/// One call: who it is for, what has been said, and how it ends. The conversation drivers
/// (<see cref="CallControlConversation"/> in Call Control mode, <see cref="StreamConversation"/> on a media stream)
/// read its events and write its history; the session itself only keeps state and owns the call's lifetime.
/// </summary>
public sealed class CallSession : IDisposable
{
    private readonly Channel<CallEvent> _events = Channel.CreateBounded<CallEvent>(new BoundedChannelOptions(256) { SingleReader = true });
    private readonly CancellationTokenSource _ending = new();
    private readonly List<ChatMessage> _history = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<CallEndReason> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CallSession(string callId, string phone, CallBrief brief, string greeting, bool useMediaStream, DateTimeOffset createdAt)
    {
        CallId = callId;
        Phone = phone;
        Brief = brief;
        Greeting = greeting;
        UseMediaStream = useMediaStream;
        CreatedAt = createdAt;
        StreamToken = useMediaStream ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_') : null;
    }

    public string CallId { get; }

    public string Phone { get; }

    public CallBrief Brief { get; }

    public string Greeting { get; }

    public bool UseMediaStream { get; }

    /// <summary>The secret the media stream must present (media-stream mode only).</summary>
    public string? StreamToken { get; }

    public DateTimeOffset CreatedAt { get; }

    public string? CallControlId { get; set; }

    /// <summary>The conversation on the call's media stream, while one is attached.</summary>
    public StreamConversation? Stream { get; set; }

    public CallStatus Status { get; set; } = CallStatus.Dialing;

    public string? HangupCause { get; private set; }

    /// <summary>Cancelled when the call ends; every loop of the call runs under it.</summary>
    public CancellationToken Ending => _ending.Token;

    /// <summary>Completes with the reason once the call has ended.</summary>
    public Task<CallEndReason> Ended => _ended.Task;

    public ChannelReader<CallEvent> Events => _events.Reader;

    /// <summary>Hands a telephony event to the session. A hangup ends the session at once, whatever it is doing.</summary>
    public bool Post(CallEvent callEvent)
    {
        if (callEvent is CallHungUp hangup)
        {
            End(CallEndReason.RemoteHangup, hangup.Cause);
            return true;
        }

        return _events.Writer.TryWrite(callEvent);
    }

    /// <summary>Ends the call's session (idempotent: the first reason wins).</summary>
    public void End(CallEndReason reason, string? hangupCause = null)
    {
        lock (_gate)
        {
            if (Status == CallStatus.Ended)
            {
                return;
            }

            Status = CallStatus.Ended;
            HangupCause = hangupCause;
        }

        _events.Writer.TryComplete();
        _ending.Cancel();
        _ended.TrySetResult(reason);
    }

    public IReadOnlyList<ChatMessage> History()
    {
        lock (_gate)
        {
            return [.. _history];
        }
    }

    /// <summary>Adds a finished turn: what the caller said, or what the agent said and the caller heard.</summary>
    /// <param name="latency">For an agent turn that answered the caller: how long each stage took.</param>
    public void AddToHistory(ChatMessage message, TurnLatency? latency = null)
    {
        lock (_gate)
        {
            _history.Add(message);
        }
    }

    /// <summary>The history plus the caller's latest words, for the agent.</summary>
    public AgentRequest RequestFor(string callerText) => new(Brief, [.. History(), new ChatMessage(Speaker.Caller, callerText)]);

    public void Dispose() => _ending.Dispose();
}
