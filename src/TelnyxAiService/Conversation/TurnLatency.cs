namespace TelnyxAiService.Conversation;

/// <summary>
/// One turn's latency breakdown, from our own clock. The origin is the end of the caller's speech (the last
/// speech frame our detector saw, or the transcript event in Call Control mode). Null means the stage did not happen.
/// </summary>
public sealed class TurnLatency
{
    public TimeSpan? TurnDecided { get; set; }

    public TimeSpan? FirstToken { get; set; }

    public TimeSpan? FirstSentence { get; set; }

    public TimeSpan? FirstAudioByte { get; set; }

    /// <summary>Voice to voice: the first agent frame on the wire (or the speak command sent).</summary>
    public TimeSpan? FirstAgentFrame { get; set; }

    public override string ToString() =>
        $"decided={Ms(TurnDecided)} token={Ms(FirstToken)} sentence={Ms(FirstSentence)} tts={Ms(FirstAudioByte)} voice={Ms(FirstAgentFrame)}";

    private static string Ms(TimeSpan? value) => value is { } v ? $"{v.TotalMilliseconds:0}ms" : "-";
}
