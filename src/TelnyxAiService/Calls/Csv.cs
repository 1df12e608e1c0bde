using System.Text;

namespace TelnyxAiService.Calls;

/// <summary>
/// An RFC 4180 reader: fields separated by commas, records ended by CRLF, LF or CR, and quoted fields that hold commas,
/// line breaks and doubled quotes. A leading byte order mark and blank lines are skipped.
/// </summary>
internal static class Csv
{
    /// <exception cref="CsvException">
    /// A quoted field is not closed, its closing quote is followed by more text, or a quote stands inside an unquoted field.
    /// </exception>
    public static List<CsvRecord> Read(string text)
    {
        var records = new List<CsvRecord>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var line = 1;
        var recordLine = 1;
        var quotedRecord = false;
        var i = text.StartsWith('\uFEFF') ? 1 : 0;
        while (true)
        {
            if (i < text.Length && text[i] == '"')
            {
                quotedRecord = true;
                var openedOn = line;
                i++;
                while (true)
                {
                    if (i == text.Length)
                    {
                        throw new CsvException(openedOn, "a quoted field is not closed");
                    }

                    var c = text[i++];
                    if (c == '"' && i < text.Length && text[i] == '"')
                    {
                        i++;
                    }
                    else if (c == '"')
                    {
                        break;
                    }
                    else if (c == '\n' || (c == '\r' && (i == text.Length || text[i] != '\n')))
                    {
                        line++;
                    }

                    field.Append(c);
                }

                if (i < text.Length && text[i] is not (',' or '\r' or '\n'))
                {
                    throw new CsvException(line, "a closing quote must be followed by a comma or the end of the line");
                }
            }
            else
            {
                for (; i < text.Length && text[i] is not (',' or '\r' or '\n'); i++)
                {
                    if (text[i] == '"')
                    {
                        throw new CsvException(line, "a field with a quote in it must be quoted, its quotes doubled (\"say \"\"hi\"\"\")");
                    }

                    field.Append(text[i]);
                }
            }

            fields.Add(field.ToString());
            field.Clear();
            if (i < text.Length && text[i] == ',')
            {
                i++;
                continue;
            }

            if (quotedRecord || fields is not [var only] || !string.IsNullOrWhiteSpace(only))
            {
                records.Add(new CsvRecord(recordLine, [.. fields]));
            }

            fields.Clear();
            quotedRecord = false;
            if (i == text.Length)
            {
                return records;
            }

            i += text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2 : 1;
            recordLine = ++line;
        }
    }
}

/// <param name="Line">The line the record starts on, from 1.</param>
internal sealed record CsvRecord(int Line, IReadOnlyList<string> Fields);

internal sealed class CsvException(int line, string message) : Exception(message)
{
    public int Line { get; } = line;
}
