using System.Collections.Frozen;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace TelnyxAiService.Calls;

/// <summary>
/// A batch sent as CSV (<c>Content-Type: text/csv</c>, UTF-8): a header row of the JSON batch's field names, Spanish or
/// English, in any order and case, then one call per row. Problems are keyed by line: <c>line 1</c> for the header or a
/// malformed row, <c>line 3.telefono</c> for a field, as <see cref="CallRequest.Read"/> names it.
/// </summary>
internal static class BatchCsv
{
    private const int MaxEchoedName = 40;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Each header name and the <see cref="CallRequestBody"/> field it fills: 0 phone, 1 name, 2 context, 3 greeting.</summary>
    private static readonly FrozenDictionary<string, int> Columns = new Dictionary<string, int>
    {
        ["telefono"] = 0,
        ["phone"] = 0,
        ["nombre"] = 1,
        ["name"] = 1,
        ["contexto"] = 2,
        ["context"] = 2,
        ["saludo"] = 3,
        ["greeting"] = 3,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public static bool IsCsv(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase);

    /// <summary>The body as text; null when it is not UTF-8.</summary>
    public static async Task<string?> ReadTextAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body, StrictUtf8, detectEncodingFromByteOrderMarks: false);
        try
        {
            return await reader.ReadToEndAsync(cancellationToken);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>
    /// The calls of a CSV batch, each with the key prefix of its line (<c>line 3.</c>). Rows with the wrong number of fields
    /// are left out with an error; null, with errors, when the text, the header or the number of rows is wrong.
    /// </summary>
    public static List<(string Prefix, CallRequestBody? Body)>? Read(string text, Dictionary<string, string[]> errors)
    {
        List<CsvRecord> records;
        try
        {
            records = Csv.Read(text);
        }
        catch (CsvException e)
        {
            errors[$"line {e.Line}"] = [e.Message];
            return null;
        }

        if (records is not [var header, .. var rows])
        {
            errors["body"] = ["is empty: send a header row (telefono,nombre,contexto,saludo or phone,name,context,greeting) and a row per call"];
            return null;
        }

        if (Header(header, errors) is not { } slots)
        {
            return null;
        }

        if (rows.Count is 0 or > CallsEndpoints.MaxBatch)
        {
            errors["body"] = [$"must hold 1 to {CallsEndpoints.MaxBatch} rows of calls after the header, got {rows.Count}"];
            return null;
        }

        var calls = new List<(string, CallRequestBody?)>();
        foreach (var row in rows)
        {
            if (row.Fields.Count != slots.Length)
            {
                errors[$"line {row.Line}"] = [$"has {row.Fields.Count} fields; the header has {slots.Length}"];
                continue;
            }

            var values = new string?[4];
            for (var column = 0; column < slots.Length; column++)
            {
                values[slots[column]] = row.Fields[column];
            }

            calls.Add(($"line {row.Line}.", new CallRequestBody(Telefono: values[0], Nombre: values[1], Contexto: values[2], Saludo: values[3])));
        }

        return calls;
    }

    /// <summary>Which field each column fills; null, with errors, for unknown or repeated columns or no phone column.</summary>
    private static int[]? Header(CsvRecord header, Dictionary<string, string[]> errors)
    {
        var slots = new int[header.Fields.Count];
        var unknown = new List<string>();
        var repeated = new List<string>();
        for (var column = 0; column < slots.Length; column++)
        {
            var name = header.Fields[column].Trim();
            slots[column] = Columns.GetValueOrDefault(name, -1);
            if (slots[column] < 0)
            {
                unknown.Add(name.Length == 0 ? $"column {column + 1} (no name)" : name[..Math.Min(name.Length, MaxEchoedName)]);
            }
            else if (slots[..column].Contains(slots[column]))
            {
                repeated.Add(name);
            }
        }

        var problems = new List<string>();
        if (unknown.Count > 0)
        {
            problems.Add($"has unknown columns: {string.Join(", ", unknown)}; the columns are telefono, nombre, contexto, saludo (or phone, name, context, greeting)");
        }

        if (repeated.Count > 0)
        {
            problems.Add($"names a field twice: {string.Join(", ", repeated)}");
        }

        if (!slots.Contains(0))
        {
            problems.Add("needs a telefono (or phone) column");
        }

        if (problems.Count == 0)
        {
            return slots;
        }

        errors[$"line {header.Line}"] = [.. problems];
        return null;
    }
}
