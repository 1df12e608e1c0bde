namespace TelnyxAiService.Conversation;

/// <summary>What the telephony provider tells a session about its call, free of any wire format.</summary>
public abstract record CallEvent;

public sealed record CallAnswered : CallEvent;

public sealed record SpeakEnded : CallEvent;

/// <summary>Call Control mode: the provider's own transcription of the caller.</summary>
public sealed record TranscriptReceived(string Text, bool IsFinal) : CallEvent;

public sealed record DigitPressed(string Digit) : CallEvent;

public sealed record StreamStarted : CallEvent;

public sealed record StreamFailed(string Reason) : CallEvent;

public sealed record CallHungUp(string? Cause, string? Source) : CallEvent;

/// <summary>The call reached MAX_CALL_SECONDS.</summary>
public sealed record TimeLimitReached : CallEvent;
