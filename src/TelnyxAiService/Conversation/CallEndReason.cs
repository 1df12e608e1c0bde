namespace TelnyxAiService.Conversation;

/// <summary>Why a call's session ended.</summary>
public enum CallEndReason
{
    /// <summary>The other party hung up (Telnyx call.hangup).</summary>
    RemoteHangup,

    /// <summary>The agent ended the call (end-call tool, idle timeout, time limit).</summary>
    AgentHangup,

    /// <summary>The caller stayed silent past the idle timeout.</summary>
    IdleTimeout,

    /// <summary>The call reached MAX_CALL_SECONDS.</summary>
    TimeLimit,

    /// <summary>Handed over to a human.</summary>
    Transferred,

    /// <summary>The dial failed or the call was never answered.</summary>
    DialFailed,

    /// <summary>The media stream could not be established or broke.</summary>
    StreamFailed,

    /// <summary>The service is shutting down.</summary>
    Shutdown,
}
