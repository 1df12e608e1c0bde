using System.Text;
using System.Text.Json.Nodes;
using CsCheck;

namespace TelnyxAiService.Tests.Hostile;

/// <summary>The JSON kind a known field has on the wire.</summary>
public enum FieldKind
{
    Text,
    Number,
    Flag,
    Object,
    List,
}

/// <summary>A field the service reads, by its dotted path (<c>data.payload.to</c>; <c>calls.0.telefono</c>).</summary>
public sealed record KnownField(string Path, FieldKind Kind);

/// <summary>
/// Seeded generators of hostile JSON: a recorded or valid document with one known field given a value of another kind,
/// strings carrying unpaired surrogates, invalid UTF-8, truncations and random bytes.
/// </summary>
public static class JsonMutation
{
    /// <summary>A value of any kind but <paramref name="kind"/> (and never a number-looking string, which some readers accept for numbers).</summary>
    public static Gen<JsonNode?> WrongValue(FieldKind kind) => Pick(
        [.. new (FieldKind Kind, Gen<JsonNode?> Value)[]
        {
            (FieldKind.Text, Gen.String[Gen.Char.AlphaNumeric, 0, 12].Select(s => (JsonNode?)JsonValue.Create("x" + s))),
            (FieldKind.Number, Gen.Int.Select(n => (JsonNode?)JsonValue.Create(n))),
            (FieldKind.Flag, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))),
            (FieldKind.Object, Gen.Int[0, 3].Select(n => (JsonNode?)new JsonObject { ["k"] = n })),
            (FieldKind.List, Gen.Int[0, 3].Select(n => (JsonNode?)new JsonArray(n, "x"))),
        }.Where(v => v.Kind != kind && !(kind == FieldKind.Number && v.Kind == FieldKind.Text)).Select(v => (1, v.Value))]);

    /// <summary>One of the generators, chosen with the given weights.</summary>
    public static Gen<T> Pick<T>(params (int Weight, Gen<T> Gen)[] choices)
    {
        int[] slots = [.. choices.SelectMany((c, i) => Enumerable.Repeat(i, c.Weight))];
        return Gen.Int[0, slots.Length - 1].SelectMany(slot => choices[slots[slot]].Gen);
    }

    /// <summary><paramref name="json"/> with the field at <paramref name="path"/> set to <paramref name="value"/> (created if absent).</summary>
    public static byte[] With(string json, string path, JsonNode? value)
    {
        var root = JsonNode.Parse(json)!;
        var parts = path.Split('.');
        var parent = root;
        foreach (var part in parts[..^1])
        {
            var next = int.TryParse(part, out var index) ? parent[index] : parent[part];
            if (next is null)
            {
                next = new JsonObject();
                parent[part] = next;
            }

            parent = next;
        }

        if (int.TryParse(parts[^1], out var last))
        {
            parent[last] = value;
        }
        else
        {
            parent[parts[^1]] = value;
        }

        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>The first string value of <paramref name="json"/> with <paramref name="escape"/> (e.g. <c>\ud800</c>) inside it.</summary>
    public static byte[] WithEscapeInFirstString(byte[] json, string escape)
    {
        var text = JsonNode.Parse(json)!.ToJsonString();
        var colonQuote = text.IndexOf(":\"", StringComparison.Ordinal);
        Assert.True(colonQuote > 0, "the document has a string value");
        return Encoding.UTF8.GetBytes(text.Insert(colonQuote + 2, escape));
    }

    /// <summary><paramref name="json"/> with bytes that are not UTF-8 inside its first string value.</summary>
    public static byte[] WithInvalidUtf8(byte[] json, byte[] garbage)
    {
        var at = Array.IndexOf(json, (byte)'"', Array.IndexOf(json, (byte)':') + 1) + 1;
        return [.. json[..at], .. garbage, .. json[at..]];
    }

    /// <summary>Sequences that are never valid UTF-8: lone continuation bytes, overlong forms, surrogates, 0xFE/0xFF.</summary>
    public static readonly Gen<byte[]> InvalidUtf8 = Gen.OneOf<byte[]>([0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFF], [0xFE, 0xFE], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80]);
}
