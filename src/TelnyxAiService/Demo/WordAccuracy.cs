namespace TelnyxAiService.Demo;

/// <summary>
/// How well the recogniser heard a script: the words said and the words heard aligned by edit distance (Levenshtein
/// over words, case and punctuation ignored). <see cref="Accuracy"/> is the usual word accuracy, 1 − WER:
/// (N − substitutions − deletions − insertions) / N, never below 0.
/// </summary>
internal sealed record WordAccuracy(int Words, int Correct, int Substitutions, int Deletions, int Insertions, IReadOnlyList<string> HeardPerLine)
{
    public double Accuracy => Words == 0 ? 1 : Math.Max(0, (double)(Words - Substitutions - Deletions - Insertions) / Words);

    /// <summary>Scores the heard text against the lines; <see cref="HeardPerLine"/> gives each line the heard words aligned to it.</summary>
    public static WordAccuracy Score(IReadOnlyList<string> lines, string heard)
    {
        var said = lines.SelectMany((line, index) => Normalize(line).Select(word => (Word: word, Line: index))).ToArray();
        var got = Normalize(heard);
        var cost = new int[said.Length + 1, got.Length + 1];
        for (var i = 0; i <= said.Length; i++)
        {
            cost[i, 0] = i;
        }

        for (var j = 0; j <= got.Length; j++)
        {
            cost[0, j] = j;
        }

        for (var i = 1; i <= said.Length; i++)
        {
            for (var j = 1; j <= got.Length; j++)
            {
                var change = said[i - 1].Word == got[j - 1] ? 0 : 1;
                cost[i, j] = Math.Min(cost[i - 1, j - 1] + change, Math.Min(cost[i - 1, j], cost[i, j - 1]) + 1);
            }
        }

        // Walk back, counting each kind of error and giving every heard word the line of the script word it aligns with.
        var perLine = lines.Select(_ => new List<string>()).ToArray();
        int correct = 0, substitutions = 0, deletions = 0, insertions = 0;
        var (a, b) = (said.Length, got.Length);
        while (a > 0 || b > 0)
        {
            if (a > 0 && b > 0 && cost[a, b] == cost[a - 1, b - 1] + (said[a - 1].Word == got[b - 1] ? 0 : 1))
            {
                if (said[a - 1].Word == got[b - 1])
                {
                    correct++;
                }
                else
                {
                    substitutions++;
                }

                perLine[said[a - 1].Line].Insert(0, got[b - 1]);
                (a, b) = (a - 1, b - 1);
            }
            else if (a > 0 && cost[a, b] == cost[a - 1, b] + 1)
            {
                deletions++;
                a--;
            }
            else
            {
                insertions++;
                perLine[a > 0 ? said[a - 1].Line : 0].Insert(0, got[b - 1]);
                b--;
            }
        }

        return new WordAccuracy(said.Length, correct, substitutions, deletions, insertions, [.. perLine.Select(words => string.Join(' ', words))]);
    }

    /// <summary>Lowercase words without punctuation (apostrophes kept: "that's").</summary>
    public static string[] Normalize(string text) =>
        new string([.. text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) || c == '\'' ? c : ' ')])
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
