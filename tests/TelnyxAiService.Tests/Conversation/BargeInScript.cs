using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>
/// The barge-in scenario the barge-in tests share: the caller asks <see cref="Question"/>, the agent answers with three
/// sentences, the caller cuts in with <see cref="Interruption"/>, and the agent answers that with <see cref="Cancelled"/>.
/// </summary>
internal static class BargeInScript
{
    public const string Question = "What are your opening hours";
    public const string FirstSentence = "We open at eight.";
    public const string SecondSentence = "We close at six in the evening on weekdays.";
    public const string ThirdSentence = "On Saturdays we open until two in the afternoon.";
    public const string LongReply = $"{FirstSentence} {SecondSentence} {ThirdSentence}";
    public const string Interruption = "Actually I need to cancel my appointment";
    public const string Cancelled = "Your appointment is cancelled.";

    /// <summary>The agent's answer to the caller's last line.</summary>
    public static string Answer(string lastLine) => lastLine.Contains("cancel", StringComparison.Ordinal) ? Cancelled : LongReply;

    /// <summary>The caller on a media stream: asks, speaks over the answer 1.6 s into it, hangs up once answered.</summary>
    public static CallerScript Caller() => new CallerScript()
        .WaitForAgentToFinish()
        .Say(Question)
        .WaitForAgentSpeech(after: TimeSpan.FromMilliseconds(1600))
        .Say(Interruption)
        .WaitForAgentToFinish()
        .HangUp();

    /// <summary>The in-process service with the vendor emulators playing the scenario over a media stream.</summary>
    public static HarnessOptions Harness() => new()
    {
        Anthropic = new AnthropicEmulatorOptions { Reply = r => new ScriptedReply(Answer(r.Messages[^1].Text)) },
        Deepgram = MediaStreamCallTests.Segments(Question, Interruption),
        Caller = _ => Caller(),
    };
}
