using System.Text.Json;
using System.Text.Json.Serialization;

namespace TelnyxAiService.Demo;

/// <summary>A persona file was unreadable or malformed; the message names the file and the field.</summary>
internal sealed class InvalidPersonaException(string message) : Exception(message);

/// <summary>One thing the callee says: after the agent has finished talking, or, with <see cref="BargeInAfter"/>, once the agent has been talking that long (interrupting it).</summary>
internal sealed record PersonaLine(string Text, TimeSpan? BargeInAfter);

/// <summary>
/// A scripted callee for the demo and the emulators: who is called (<see cref="Name"/>, <see cref="Context"/>), what
/// the agent greets them with, and the lines they say in order. A JSON file:
/// <code>{ "name": "Ana", "context": "...", "greeting": "...", "lines": [ { "say": "..." }, { "say": "...", "barge_in_after_ms": 1500 } ] }</code>
/// </summary>
internal sealed record Persona(string Name, string Context, string? Greeting, IReadOnlyList<PersonaLine> Lines)
{
    /// <summary>The clinic booking shipped next to the binaries (personas/clinic-booking.json).</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "personas", "clinic-booking.json");

    public static Persona Load(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidPersonaException($"persona '{path}': cannot be read: {e.Message}");
        }
    }

    public static Persona Parse(string json, string source)
    {
        var utf8 = System.Text.Encoding.UTF8.GetBytes(json);
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            while (reader.Read())
            {
            }
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"is not valid JSON: {e.Message}");
        }

        PersonaFile? file;
        try
        {
            file = JsonSerializer.Deserialize(utf8, PersonaJson.Default.PersonaFile);
        }
        catch (JsonException e)
        {
            throw Invalid(source, e.Path is null or "$" ? "does not hold one JSON object" : $"{e.Path.TrimStart('$', '.')} has the wrong type");
        }

        if (file is null)
        {
            throw Invalid(source, "must hold one JSON object");
        }

        if (file.Lines is not { Count: > 0 } lines)
        {
            throw Invalid(source, "needs \"lines\": a non-empty array of { \"say\": \"...\" }");
        }

        var parsed = new List<PersonaLine>();
        for (var index = 0; index < lines.Count; index++)
        {
            var where = $"lines[{index}]";
            if (lines[index] is not { } line || Text(line.Say, source, where + ".say") is not { } say)
            {
                throw Invalid(source, $"{where} needs \"say\": the words the callee speaks");
            }

            if (line.BargeInAfterMs is < 0 or > 60_000)
            {
                throw Invalid(source, $"{where}.barge_in_after_ms must be a whole number of milliseconds from 0 to 60000");
            }

            parsed.Add(new PersonaLine(say, line.BargeInAfterMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null));
        }

        return new Persona(
            Text(file.Name, source, "name") ?? "Alex",
            Text(file.Context, source, "context") ?? "your appointment",
            Text(file.Greeting, source, "greeting"),
            parsed);
    }

    private static string? Text(string? value, string source, string where) => value switch
    {
        null => null,
        _ when string.IsNullOrWhiteSpace(value) => throw Invalid(source, $"{where} must be a non-empty string"),
        _ => value.Trim(),
    };

    private static InvalidPersonaException Invalid(string source, string problem) => new($"persona '{source}': {problem}");
}

/// <summary>A persona file as written.</summary>
internal sealed record PersonaFile(string? Name, string? Context, string? Greeting, IReadOnlyList<PersonaLineFile?>? Lines);

internal sealed record PersonaLineFile(string? Say, int? BargeInAfterMs);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(PersonaFile))]
internal sealed partial class PersonaJson : JsonSerializerContext;
