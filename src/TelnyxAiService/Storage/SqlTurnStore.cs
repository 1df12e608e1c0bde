using TelnyxAiService.Llm;

namespace TelnyxAiService.Storage;

/// <summary><see cref="ITurnStore"/> over portable SQL, on SQLite or PostgreSQL through <see cref="SqlDialect"/>.</summary>
internal sealed class SqlTurnStore(SqlDialect dialect) : ITurnStore
{
    public async Task AppendTurnAsync(TurnRecord turn, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        var latency = turn.Latency;
        await connection.RunAsync(
            """
            INSERT INTO turns (call_id, seq, speaker, text, started_at, ended_at, interrupted,
                end_of_speech_to_decision_ms, decision_to_first_token_ms, first_token_to_first_sentence_ms,
                sentence_to_tts_first_byte_ms, tts_first_byte_to_first_frame_ms, voice_to_voice_ms)
            VALUES (@callId, @seq, @speaker, @text, @startedAt, @endedAt, @interrupted,
                @endOfSpeechToDecision, @decisionToFirstToken, @firstTokenToFirstSentence,
                @sentenceToTtsFirstByte, @ttsFirstByteToFirstFrame, @voiceToVoice)
            ON CONFLICT (call_id, seq) DO NOTHING
            """,
            null,
            cancellationToken,
            ("callId", turn.CallId),
            ("seq", turn.Seq),
            ("speaker", StorageText<Speaker>.Of(turn.Speaker)),
            ("text", turn.Text),
            ("startedAt", Sql.Millis(turn.StartedAt)),
            ("endedAt", Sql.Millis(turn.EndedAt)),
            ("interrupted", turn.Interrupted),
            ("endOfSpeechToDecision", latency.EndOfSpeechToDecision),
            ("decisionToFirstToken", latency.DecisionToFirstToken),
            ("firstTokenToFirstSentence", latency.FirstTokenToFirstSentence),
            ("sentenceToTtsFirstByte", latency.SentenceToTtsFirstByte),
            ("ttsFirstByteToFirstFrame", latency.TtsFirstByteToFirstFrame),
            ("voiceToVoice", latency.VoiceToVoice));
    }

    public async Task<IReadOnlyList<TurnRecord>> GetTurnsAsync(string callId, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        return await connection.ReadAsync(
            """
            SELECT call_id, seq, speaker, text, started_at, ended_at, interrupted,
                end_of_speech_to_decision_ms, decision_to_first_token_ms, first_token_to_first_sentence_ms,
                sentence_to_tts_first_byte_ms, tts_first_byte_to_first_frame_ms, voice_to_voice_ms
            FROM turns WHERE call_id = @callId ORDER BY seq
            """,
            r => new TurnRecord(
                r.GetString(0), r.GetInt32(1), StorageText<Speaker>.Parse(r.GetString(2)), r.GetString(3), r.Time(4), r.Time(5), r.GetBoolean(6),
                new TurnLatency(r.Int(7), r.Int(8), r.Int(9), r.Int(10), r.Int(11), r.Int(12))),
            null,
            cancellationToken,
            ("callId", callId));
    }
}
