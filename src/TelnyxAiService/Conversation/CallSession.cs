using System.Security.Cryptography;
using System.Threading.Channels;
using TelnyxAiService.Llm;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Conversation;

/// <summary>Where a live call is in its life (the stored status is <see cref="Storage.CallStatus"/>).</summary>
public enum CallPhase
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
    private readonly Channel<TelephonyEvent> _events = Channel.CreateBounded<TelephonyEvent>(new BoundedChannelOptions(256) { SingleReader = true });
    private readonly CancellationTokenSource _ending = new();
    private readonly List<ChatMessage> _history = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<CallEndReason> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset _lastTurnEnded;
    private int _streamAttached;
    private string? _callControlId;
    private StreamConversation? _stream;
    private CallPhase _phase = CallPhase.Dialing;

    /// <param name="greeting">What the agent says first on the call's media stream (or with speak, once answered).</param>
    /// <param name="streamToken">The stream's secret when the call already has one (taken over from another instance).</param>
    public CallSession(string callId, string phone, CallBrief brief, string greeting, bool useMediaStream, DateTimeOffset createdAt, string? streamToken = null)
    {
        CallId = callId;
        Phone = phone;
        Brief = brief;
        Greeting = greeting;
        UseMediaStream = useMediaStream;
        CreatedAt = createdAt;
        _lastTurnEnded = createdAt;
        StreamToken = useMediaStream ? streamToken ?? NewStreamToken() : null;
    }

    /// <summary>A fresh secret for a media stream: 24 random bytes, URL-safe.</summary>
    public static string NewStreamToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    public string CallId { get; }

    public string Phone { get; }

    public CallBrief Brief { get; }

    public string Greeting { get; }

    public bool UseMediaStream { get; }

    /// <summary>The secret the media stream must present (media-stream mode only).</summary>
    public string? StreamToken { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>Telnyx's id for the call's leg, once dialled or answered: every command about the call names it.</summary>
    public string? CallControlId => Volatile.Read(ref _callControlId);

    /// <summary>The conversation on the call's media stream, while one is attached.</summary>
    public StreamConversation? Stream => Volatile.Read(ref _stream);

    public CallPhase Phase
    {
        get
        {
            lock (_gate)
            {
                return _phase;
            }
        }
    }

    /// <summary>Telnyx named the call's leg (see <see cref="SessionRegistry.SetCallControlId"/>, which also finds the call by it).</summary>
    public void SetCallControlId(string callControlId) => Volatile.Write(ref _callControlId, callControlId);

    /// <summary>The conversation now on the call's media stream, or null once it has stopped.</summary>
    public void SetStream(StreamConversation? conversation) => Volatile.Write(ref _stream, conversation);

    /// <summary>Claims the call's media stream for one connection; false while another connection holds it.</summary>
    public bool TryAttachStream() => Interlocked.Exchange(ref _streamAttached, 1) == 0;

    /// <summary>Whether a connection holds the call's stream (<see cref="TryAttachStream"/>).</summary>
    public bool StreamAttached => Volatile.Read(ref _streamAttached) == 1;

    /// <summary>Releases the claim <see cref="TryAttachStream"/> took, so a later connection may attach.</summary>
    public void DetachStream() => Volatile.Write(ref _streamAttached, 0);

    /// <summary>When the callee answered; null while ringing and for calls never answered.</summary>
    public DateTimeOffset? AnsweredAt { get; private set; }

    /// <summary>Where turns and the answer are stored; null for a session that is not persisted.</summary>
    internal CallStoreWriter? Writer { get; init; }

    /// <summary>Where the console watches the call as it happens; null when nobody can.</summary>
    internal LiveCalls.LiveCallFeed? Feed { get; init; }

    public CallDirection Direction { get; init; }

    internal TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The call's trace (see <see cref="Telemetry.ServiceTelemetry"/>); null when traces are not exported.</summary>
    internal System.Diagnostics.Activity? Trace { get; set; }

    public string? HangupCause { get; private set; }

    /// <summary>Cancelled when the call ends; every loop of the call runs under it.</summary>
    public CancellationToken Ending => _ending.Token;

    /// <summary>Completes with the reason once the call has ended.</summary>
    public Task<CallEndReason> Ended => _ended.Task;

    public ChannelReader<TelephonyEvent> Events => _events.Reader;

    /// <summary>Hands a telephony event to the session. A hangup ends the session at once, whatever it is doing.</summary>
    public bool Post(TelephonyEvent callEvent)
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
            if (_phase == CallPhase.Ended)
            {
                return;
            }

            _phase = CallPhase.Ended;
            HangupCause = hangupCause;
        }

        _events.Writer.TryComplete();
        _ending.Cancel();
        _ended.TrySetResult(reason);
    }

    /// <summary>The callee picked up: the session is answered and the store learns it (without waiting).</summary>
    public void MarkAnswered()
    {
        lock (_gate)
        {
            if (_phase != CallPhase.Dialing)
            {
                return;
            }

            _phase = CallPhase.Answered;
            AnsweredAt = Time.GetUtcNow();
            _lastTurnEnded = AnsweredAt.Value;
        }

        Writer?.TrySetAnswered(CallId);
        Show(new LiveCalls.StateChanged(CallId, LiveCalls.LiveState.Listening));
    }

    /// <summary>Tells the console's watchers what just happened on the call.</summary>
    internal void Show(LiveCalls.LiveEvent live) => Feed?.Publish(live);

    /// <summary>
    /// Continues a call another run of the service began: what was said so far (turns go on from its count) and, when it
    /// was answered, the answered state, so the greeting is not said again and the next reply carries the whole history.
    /// </summary>
    public void Resume(IReadOnlyList<ChatMessage> history, DateTimeOffset? answeredAt)
    {
        lock (_gate)
        {
            _history.AddRange(history);
            if (answeredAt is not null)
            {
                _phase = CallPhase.Answered;
                AnsweredAt = answeredAt;
                _lastTurnEnded = Time.GetUtcNow();
            }
        }
    }

    public IReadOnlyList<ChatMessage> History()
    {
        lock (_gate)
        {
            return [.. _history];
        }
    }

    /// <summary>Adds a finished turn: what the caller said, or what the agent said and the caller heard.</summary>
    /// <param name="timings">For an agent turn that answered the caller: how long each stage took.</param>
    /// <remarks>The turn is queued for the store and never waited for: the conversation goes on at once.</remarks>
    public void AddToHistory(ChatMessage message, TurnTimings? timings = null)
    {
        var now = Time.GetUtcNow();
        TurnRecord turn;
        lock (_gate)
        {
            turn = new TurnRecord(CallId, _history.Count, message.Speaker,
                message.Text, _lastTurnEnded, now, message.Interrupted, timings?.ToRecord() ?? new TurnLatency());
            _history.Add(message);
            _lastTurnEnded = now;
        }

        Writer?.TryAppendTurn(turn);
        Show(new LiveCalls.LineAdded(CallId, Calls.TurnView.Of(turn)));
    }

    /// <summary>The history plus the caller's latest words, for the agent.</summary>
    public AgentRequest RequestFor(string callerText) => new(Brief, [.. History(), new ChatMessage(Llm.Speaker.Caller, callerText)]);

    public void Dispose() => _ending.Dispose();
}
