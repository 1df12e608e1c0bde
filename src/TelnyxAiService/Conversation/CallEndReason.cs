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

    /// <summary>
    /// This instance let go of the call (it is stopping, or lost its lease): the call goes on at Telnyx, and the
    /// instance that takes its lease over continues it. Nothing about its end is stored here.
    /// </summary>
    HandedOver,

    /// <summary>This instance stopped with the call still live and could not hand it over (a browser call: its socket is here).</summary>
    ServiceStopped,
}
