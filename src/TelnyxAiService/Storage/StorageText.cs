using System.Collections.Frozen;
using System.Text.Json;

namespace TelnyxAiService.Storage;

/// <summary>Enum values as the snake_case text stored in the database (<c>NoAnswer</c> ↔ <c>no_answer</c>).</summary>
internal static class StorageText<T>
    where T : struct, Enum
{
    private static readonly FrozenDictionary<T, string> Names =
        Enum.GetValues<T>().ToFrozenDictionary(v => v, v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()));

    private static readonly FrozenDictionary<string, T> Values = Names.ToFrozenDictionary(p => p.Value, p => p.Key);

    public static string Of(T value) => Names[value];

    public static bool TryParse(string text, out T value) => Values.TryGetValue(text, out value);

    public static T Parse(string text) =>
        Values.TryGetValue(text, out var value) ? value : throw new InvalidDataException($"Unknown {typeof(T).Name} '{text}' in the database.");
}
