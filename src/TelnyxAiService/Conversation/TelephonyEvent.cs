namespace TelnyxAiService.Conversation;

/// <summary>What the telephony provider tells a session about its call, free of any wire format.</summary>
public abstract record TelephonyEvent;

public sealed record CallAnswered : TelephonyEvent;

public sealed record SpeakEnded : TelephonyEvent;

/// <summary>Call Control mode: the provider's own transcription of the caller.</summary>
public sealed record TranscriptReceived(string Text, bool IsFinal) : TelephonyEvent;

public sealed record DigitPressed(string Digit) : TelephonyEvent;

public sealed record StreamStarted : TelephonyEvent;

public sealed record StreamFailed(string Reason) : TelephonyEvent;

public sealed record CallHungUp(string? Cause, string? Source) : TelephonyEvent;

/// <summary>The call reached MAX_CALL_SECONDS.</summary>
public sealed record TimeLimitReached : TelephonyEvent;
