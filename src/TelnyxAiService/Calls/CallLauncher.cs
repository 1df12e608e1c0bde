using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;
using TelnyxAiService.Telephony;
using TelnyxAiService.Telephony.Telnyx;

namespace TelnyxAiService.Calls;

public sealed record LaunchedCall(string CallId, string CallControlId);

/// <summary>Places one outbound call: its session exists before the dial, so no webhook can arrive for an unknown call.</summary>
public sealed partial class CallLauncher(
    SessionRegistry sessions,
    CallSupervisor supervisor,
    ICallControl callControl,
    TelnyxOptions telnyx,
    ConversationOptions conversation,
    TimeProvider time,
    ILogger<CallLauncher> logger)
{
    /// <exception cref="ProviderException">The dial failed; the session is ended.</exception>
    public async Task<LaunchedCall> LaunchAsync(CallRequest request, CancellationToken cancellationToken)
    {
        var callId = Guid.CreateVersion7().ToString("N");
        var brief = new CallBrief(request.Name, request.Context, conversation.Language, conversation.Instructions);
        var greeting = request.Greeting ?? Phrases.For(conversation.Language).GreetingFor(request.Name);
        var session = new CallSession(callId, request.Phone, brief, greeting, telnyx.UseMediaStreams, time.GetUtcNow());
        supervisor.Start(session);
        var stream = session.StreamToken is { } token
            ? new MediaStreamRequest(new Uri($"{telnyx.StreamUrl}?token={token}"), token, "PCMU", 8000)
            : null;
        try
        {
            var dialed = await callControl.DialAsync(new DialRequest(request.Phone, callId, callId, stream), cancellationToken);
            sessions.SetCallControlId(session, dialed.CallControlId);
            LogDialed(callId);
            return new LaunchedCall(callId, dialed.CallControlId);
        }
        catch (Exception e) when (e is ProviderException or OperationCanceledException)
        {
            LogDialFailed(callId, e);
            session.End(CallEndReason.DialFailed);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId} dialled")]
    private partial void LogDialed(string callId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: dial failed")]
    private partial void LogDialFailed(string callId, Exception exception);
}
