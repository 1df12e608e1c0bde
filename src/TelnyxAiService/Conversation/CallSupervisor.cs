using System.Collections.Concurrent;
using System.Threading.Channels;
using TelnyxAiService.Storage;
using TelnyxAiService.Telemetry;

namespace TelnyxAiService.Conversation;

/// <summary>
/// Owns every live call's task: starts the call's conversation, and when the call ends removes it, counts it, stores
/// how it ended (after its turns) and logs it. A call handed over (<see cref="HandOverAllAsync"/>) is let go without
/// storing an end: it goes on at Telnyx for the instance that takes it over.
/// </summary>
internal sealed partial class CallSupervisor(
    SessionRegistry registry,
    CallStats stats,
    CallControlConversation conversation,
    CallStoreWriter writer,
    ServiceTelemetry telemetry,
    TimeProvider time,
    ILogger<CallSupervisor> logger) : IHostedService
{
    private readonly ConcurrentDictionary<string, Task<CallStatus?>> _running = new(StringComparer.Ordinal);

    /// <returns>
    /// Completes once the call has ended and its end is stored, with the status it was stored with; null when it was
    /// handed over.
    /// </returns>
    public Task<CallStatus?> Start(CallSession session)
    {
        session.Trace = telemetry.CallStarted(session);
        registry.Add(session);
        stats.CallStarted();
        session.Show(new LiveCalls.CallShown(
            session.CallId,
            StorageText<CallDirection>.Of(session.Direction),
            session.Phone,
            session.Brief.Name.Length > 0 ? session.Brief.Name : null,
            session.Phase == CallPhase.Answered ? LiveCalls.LiveState.Listening : LiveCalls.LiveState.Ringing,
            session.CreatedAt,
            [],
            null,
            null));
        var run = RunAsync(session);
        _running[session.CallId] = run;
        return run;
    }

    /// <summary>How a call that ended this way is stored.</summary>
    public static CallStatus StatusOf(CallEndReason reason, string? hangupCause, bool answered) => (reason, hangupCause) switch
    {
        (_, "user_busy") => CallStatus.Busy,
        (_, "no_answer" or "timeout") when !answered => CallStatus.NoAnswer,
        (CallEndReason.DialFailed, _) => CallStatus.Failed,
        _ when answered => CallStatus.Completed,
        _ => CallStatus.Failed,
    };

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Hands every live call over (see <see cref="CallEndReason.HandedOver"/>) and waits until they are let go; a browser
    /// call, which no other instance can continue, is ended and stored instead.
    /// </summary>
    public async Task HandOverAllAsync(CancellationToken cancellationToken)
    {
        foreach (var session in registry.All)
        {
            session.End(session.Direction == CallDirection.Browser ? CallEndReason.ServiceStopped : CallEndReason.HandedOver);
        }

        await Task.WhenAll(_running.Values).WaitAsync(cancellationToken);
    }

    /// <summary>Waits until no call is live, or <paramref name="deadline"/> has passed.</summary>
    /// <returns>True when every call ended by itself.</returns>
    public async Task<bool> WaitForCallsAsync(TimeSpan deadline, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + deadline;
        while (!_running.IsEmpty)
        {
            var left = until - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await Task.WhenAll(_running.Values).WaitAsync(left, time, cancellationToken);
            }
            catch (TimeoutException)
            {
            }
        }

        return true;
    }

    public Task StopAsync(CancellationToken cancellationToken) => HandOverAllAsync(cancellationToken);

    private async Task<CallStatus?> RunAsync(CallSession session)
    {
        await Task.Yield();
        try
        {
            await conversation.RunAsync(session);
        }
        catch (OperationCanceledException) when (session.Ending.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogCallCrashed(session.CallId, e);
            session.End(CallEndReason.StreamFailed);
        }

        var reason = await session.Ended;
        CallStatus? status = reason == CallEndReason.HandedOver ? null : StatusOf(reason, session.HangupCause, Answered(session));
        try
        {
            registry.Remove(session);
            var outcome = status is { } ended ? StorageText<CallStatus>.Of(ended) : "handed_over";
            session.Show(new LiveCalls.CallEnded(session.CallId, outcome, EndReasonText(reason)));
            telemetry.CallEnded(session, outcome);
            if (status is null)
            {
                LogHandedOver(session.CallId);
            }
            else if (status == CallStatus.Completed)
            {
                stats.CallCompleted();
            }
            else
            {
                stats.CallFailed();
            }

            LogCallEnded(session.CallId, reason, session.HangupCause ?? "-", session.History().Count, (time.GetUtcNow() - session.CreatedAt).TotalSeconds);
            if (session.Writer is not null && status is { } stored)
            {
                await writer.EndCallAsync(session.CallId, stored, EndReasonText(reason), session.HangupCause, CancellationToken.None);
            }
        }
        catch (ChannelClosedException)
        {
            LogEndNotStored(session.CallId);
        }
        finally
        {
            session.Dispose();
            _running.TryRemove(session.CallId, out _);
        }

        return status;
    }

    /// <summary>Answered, or the caller spoke (a call taken over may have missed its call.answered).</summary>
    private static bool Answered(CallSession session) =>
        session.AnsweredAt is not null || session.History().Any(m => m.Speaker == Llm.Speaker.Caller);

    private static string EndReasonText(CallEndReason reason) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(reason.ToString());

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId} ended: {Reason} (hangup cause {Cause}), {Messages} messages, {Seconds:0.0} s")]
    private partial void LogCallEnded(string callId, CallEndReason reason, string cause, int messages, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId} handed over: it goes on at Telnyx for the instance that takes its lease")]
    private partial void LogHandedOver(string callId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId} failed unexpectedly")]
    private partial void LogCallCrashed(string callId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: its end was not stored (the store writer had stopped)")]
    private partial void LogEndNotStored(string callId);
}
