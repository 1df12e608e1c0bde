namespace TelnyxAiService.Conversation;

/// <summary>
/// One turn's latency breakdown, from our own clock: how long after the end of the caller's speech each stage first
/// produced something. The origin is the last speech frame our detector saw (or the transcript event in Call Control
/// mode). Null means the stage did not happen.
/// </summary>
/// <param name="FirstAgentFrame">Voice to voice: the first agent frame on the wire (or the speak command sent).</param>
public sealed record TurnTimings(
    TimeSpan? TurnDecided,
    TimeSpan? FirstToken,
    TimeSpan? FirstSentence,
    TimeSpan? FirstAudioByte,
    TimeSpan? FirstAgentFrame)
{
    /// <summary>The stored form: the duration of each stage rather than the time since the origin.</summary>
    public Storage.TurnLatency ToRecord()
    {
        var ms = AllStages().Select(s => s.From is { } from && s.To is { } to ? (int?)Math.Round((to - from).TotalMilliseconds) : null).ToArray();
        return new Storage.TurnLatency(ms[0], ms[1], ms[2], ms[3], ms[4], ms[5]);
    }

    /// <summary>The stages that happened, named as the stored fields, as offsets from the origin.</summary>
    public IReadOnlyList<(string Stage, TimeSpan From, TimeSpan To)> Stages() =>
        [.. AllStages().Where(s => s.From is not null && s.To is not null).Select(s => (s.Stage, s.From!.Value, s.To!.Value))];

    /// <summary>Every stage, in the order of <see cref="Storage.TurnLatency"/>'s fields, with its ends (null: did not happen).</summary>
    private (string Stage, TimeSpan? From, TimeSpan? To)[] AllStages() =>
    [
        ("end_of_speech_to_decision", TimeSpan.Zero, TurnDecided),
        ("decision_to_first_token", TurnDecided, FirstToken),
        ("first_token_to_first_sentence", FirstToken, FirstSentence),
        ("sentence_to_tts_first_byte", FirstSentence, FirstAudioByte),
        ("tts_first_byte_to_first_frame", FirstAudioByte, FirstAgentFrame),
        ("voice_to_voice", TimeSpan.Zero, FirstAgentFrame),
    ];

    public override string ToString() =>
        $"decided={Ms(TurnDecided)} token={Ms(FirstToken)} sentence={Ms(FirstSentence)} tts={Ms(FirstAudioByte)} voice={Ms(FirstAgentFrame)}";

    private static string Ms(TimeSpan? value) => value is { } v ? $"{v.TotalMilliseconds:0}ms" : "-";
}
