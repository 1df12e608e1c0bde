using TelnyxAiService.Conversation;

namespace TelnyxAiService.Tests.Conversation;

public sealed class SentenceChunkerTests
{
    [Fact]
    public void Push_StreamedTokens_CutsEagerFirstClauseThenSentences()
    {
        var chunker = new SentenceChunker();
        var pieces = new List<string>();
        foreach (var token in new[] { "Claro", ", puedo ", "ayudarle con eso", ", un momento", " por favor. ", "Su cita es ", "el lunes", " a las 3.", "5 horas. ¿Le", " va bien?" })
        {
            pieces.AddRange(chunker.Push(token));
        }

        pieces.Add(chunker.Flush()!);
        Assert.Equal(["Claro, puedo ayudarle con eso,", "un momento por favor.", "Su cita es el lunes a las 3.5 horas.", "¿Le va bien?"], pieces);
    }

    [Fact]
    public void Push_ShortFirstClause_WaitsForMoreWords()
    {
        var chunker = new SentenceChunker();
        Assert.Empty(chunker.Push("Sí, "));
        Assert.Equal(["Sí, claro que sí."], chunker.Push("claro que sí. "));
    }

    [Fact]
    public void Push_Abbreviation_DoesNotEndSentence()
    {
        var chunker = new SentenceChunker();
        Assert.Empty(chunker.Push("La Dra. García le atenderá"));
        Assert.Equal("La Dra. García le atenderá", chunker.Flush());
        Assert.Null(chunker.Flush());
    }
}
