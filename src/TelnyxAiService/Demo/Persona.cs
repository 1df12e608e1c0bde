using System.Text.Json;

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
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"is not valid JSON: {e.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(source, "must hold one JSON object");
        }

        if (!root.TryGetProperty("lines", out var lines) || lines.ValueKind != JsonValueKind.Array || lines.GetArrayLength() == 0)
        {
            throw Invalid(source, "needs \"lines\": a non-empty array of { \"say\": \"...\" }");
        }

        var parsed = new List<PersonaLine>();
        var index = 0;
        foreach (var line in lines.EnumerateArray())
        {
            var where = $"lines[{index++}]";
            if (line.ValueKind != JsonValueKind.Object || Text(line, "say", source, where) is not { } say)
            {
                throw Invalid(source, $"{where} needs \"say\": the words the callee speaks");
            }

            TimeSpan? bargeIn = null;
            if (line.TryGetProperty("barge_in_after_ms", out var after))
            {
                if (!after.TryGetInt32(out var ms) || ms is < 0 or > 60_000)
                {
                    throw Invalid(source, $"{where}.barge_in_after_ms must be a whole number of milliseconds from 0 to 60000");
                }

                bargeIn = TimeSpan.FromMilliseconds(ms);
            }

            parsed.Add(new PersonaLine(say, bargeIn));
        }

        return new Persona(
            Text(root, "name", source, "name") ?? "Alex",
            Text(root, "context", source, "context") ?? "your appointment",
            Text(root, "greeting", source, "greeting"),
            parsed);
    }

    private static string? Text(JsonElement element, string property, string source, string where)
    {
        if (!element.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!.Trim()
            : throw Invalid(source, $"{where} must be a non-empty string");
    }

    private static InvalidPersonaException Invalid(string source, string problem) => new($"persona '{source}': {problem}");
}
