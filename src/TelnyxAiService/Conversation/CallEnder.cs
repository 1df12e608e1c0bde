using TelnyxAiService.Providers;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Conversation;

/// <summary>
/// Ends the call once a reply that ends it has been heard: transfers it (when the agent asked and a number is set) or
/// hangs up through Telnyx, and ends the session either way, even if Telnyx refuses the command. A browser call has no
/// Telnyx leg: its session just ends, which closes its socket.
/// </summary>
internal sealed partial class CallEnder(CallSession session, ICallControl callControl, string? transferNumber, ILogger logger)
{
    /// <summary>Ends the call if <paramref name="reply"/> asked for it; false when the conversation goes on.</summary>
    public async Task<bool> AfterAsync(Reply reply)
    {
        if (reply.EndsCall is { } ending && session.Direction == Storage.CallDirection.Browser)
        {
            session.End(ending == CallEndReason.Transferred ? CallEndReason.AgentHangup : ending);
        }
        else if (reply.EndsCall is CallEndReason.Transferred && transferNumber is { } transferTo)
        {
            await EndAsync(CallEndReason.Transferred, ct => callControl.TransferAsync(session.CallControlId!, transferTo, ct));
        }
        else if (reply.EndsCall is { } reason)
        {
            await EndAsync(reason, ct => callControl.HangupAsync(session.CallControlId!, ct));
        }
        else
        {
            return false;
        }

        return true;
    }

    private async Task EndAsync(CallEndReason reason, Func<CancellationToken, Task> command)
    {
        try
        {
            await command(session.Ending);
        }
        catch (Exception e) when (ProviderException.Of("telnyx", e, session.Ending) is { } failure)
        {
            LogEndCommandFailed(session.CallId, reason, failure.Provider, failure);
        }

        session.End(reason);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: ending the call ({Reason}) failed ({Provider})")]
    private partial void LogEndCommandFailed(string callId, CallEndReason reason, string provider, ProviderException exception);
}
