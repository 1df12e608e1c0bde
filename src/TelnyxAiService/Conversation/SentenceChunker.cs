using System.Text;

namespace TelnyxAiService.Conversation;

/// <summary>
/// Cuts streamed reply text into pieces worth sending to text-to-speech: the first piece eagerly, at the first clause
/// break once it has a few words, so the caller hears the agent sooner; the rest at sentence ends.
/// </summary>
public sealed class SentenceChunker
{
    private const int EagerMinimumWords = 4;
    private static readonly string[] Abbreviations = ["sr.", "sra.", "srta.", "dr.", "dra.", "ud.", "uds.", "mr.", "mrs.", "ms.", "st.", "etc.", "p.ej.", "e.g.", "i.e."];
    private readonly StringBuilder _pending = new();
    private bool _first = true;

    /// <summary>Adds streamed text and returns the pieces that are now complete.</summary>
    public IReadOnlyList<string> Push(string text)
    {
        _pending.Append(text);
        List<string>? pieces = null;
        while (NextBreak() is { } end)
        {
            var piece = _pending.ToString(0, end).Trim();
            _pending.Remove(0, end);
            if (piece.Length > 0)
            {
                (pieces ??= []).Add(piece);
                _first = false;
            }
        }

        return pieces ?? (IReadOnlyList<string>)[];
    }

    /// <summary>The text left over at the end of the reply.</summary>
    public string? Flush()
    {
        var rest = _pending.ToString().Trim();
        _pending.Clear();
        return rest.Length > 0 ? rest : null;
    }

    /// <summary>Index just past the first break that is followed by whitespace, or null.</summary>
    private int? NextBreak()
    {
        for (var i = 0; i < _pending.Length - 1; i++)
        {
            var c = _pending[i];
            if (!char.IsWhiteSpace(_pending[i + 1]))
            {
                continue;
            }

            if (c is '!' or '?' or '…' or ';' || (c == '.' && !EndsWithAbbreviation(i)))
            {
                return i + 1;
            }

            if (_first && c is ',' or ':' && CountWords(i) >= EagerMinimumWords)
            {
                return i + 1;
            }
        }

        return null;
    }

    private bool EndsWithAbbreviation(int periodIndex)
    {
        var start = periodIndex;
        while (start > 0 && !char.IsWhiteSpace(_pending[start - 1]))
        {
            start--;
        }

        var word = _pending.ToString(start, periodIndex - start + 1).ToLowerInvariant();
        return Abbreviations.Contains(word);
    }

    private int CountWords(int end)
    {
        var words = 0;
        var inWord = false;
        for (var i = 0; i < end; i++)
        {
            var letter = !char.IsWhiteSpace(_pending[i]);
            if (letter && !inWord)
            {
                words++;
            }

            inWord = letter;
        }

        return words;
    }
}
