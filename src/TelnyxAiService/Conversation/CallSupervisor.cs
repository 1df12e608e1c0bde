using System.Collections.Concurrent;

namespace TelnyxAiService.Conversation;

/// <summary>
/// Owns every live call's task: starts the call's conversation, and when the call ends removes it, counts it and
/// logs it. On shutdown it ends every call and waits for them.
/// </summary>
public sealed partial class CallSupervisor(
    SessionRegistry registry,
    CallStats stats,
    CallControlConversation conversation,
    ILogger<CallSupervisor> logger) : IHostedService
{
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    public void Start(CallSession session)
    {
        registry.Add(session);
        stats.CallStarted();
        _running[session.CallId] = RunAsync(session);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var session in registry.All)
        {
            session.End(CallEndReason.Shutdown);
        }

        await Task.WhenAll(_running.Values).WaitAsync(cancellationToken);
    }

    private async Task RunAsync(CallSession session)
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
        finally
        {
            var reason = await session.Ended;
            registry.Remove(session);
            if (session.CallControlId is null || reason == CallEndReason.DialFailed || session.HangupCause is "user_busy" or "no_answer" or "timeout" or "call_rejected")
            {
                stats.CallFailed();
            }
            else
            {
                stats.CallCompleted();
            }

            LogCallEnded(session.CallId, reason, session.HangupCause ?? "-", session.History().Count, (DateTimeOffset.UtcNow - session.CreatedAt).TotalSeconds);
            session.Dispose();
            _running.TryRemove(session.CallId, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId} ended: {Reason} (hangup cause {Cause}), {Messages} messages, {Seconds:0.0} s")]
    private partial void LogCallEnded(string callId, CallEndReason reason, string cause, int messages, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId} failed unexpectedly")]
    private partial void LogCallCrashed(string callId, Exception exception);
}
