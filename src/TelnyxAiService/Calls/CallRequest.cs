using System.Text.Json;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Calls;

/// <summary>
/// A call to place, as the original API takes it: <c>telefono</c>, <c>nombre</c>, <c>contexto</c>, <c>saludo</c>
/// (or <c>phone</c>, <c>name</c>, <c>context</c>, <c>greeting</c>).
/// </summary>
public sealed record CallRequest(string Phone, string Name, string Context, string? Greeting)
{
    public const int MaxName = 100;
    public const int MaxContext = 4000;
    public const int MaxGreeting = 500;

    /// <summary>Reads and validates one call; problems are added to <paramref name="errors"/> under "<paramref name="prefix"/>field".</summary>
    public static CallRequest? Read(JsonElement json, string prefix, Dictionary<string, string[]> errors)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            errors[prefix.TrimEnd('.')] = ["must be a JSON object"];
            return null;
        }

        var before = errors.Count;
        var phone = Field(json, prefix, "telefono", "phone", 16, required: true, errors);
        var name = Field(json, prefix, "nombre", "name", MaxName, required: false, errors);
        var context = Field(json, prefix, "contexto", "context", MaxContext, required: false, errors);
        var greeting = Field(json, prefix, "saludo", "greeting", MaxGreeting, required: false, errors);
        if (phone is not null && !PhoneNumber.IsE164(phone))
        {
            errors[prefix + "telefono"] = ["must be an E.164 number: '+' and 8 to 15 digits, e.g. +34600111222"];
        }

        return errors.Count == before ? new CallRequest(phone!, name ?? "", context ?? "", greeting) : null;
    }

    private static string? Field(JsonElement json, string prefix, string spanish, string english, int maxLength, bool required, Dictionary<string, string[]> errors)
    {
        var found = json.TryGetProperty(spanish, out var value) || json.TryGetProperty(english, out value);
        if (!found || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors[prefix + spanish] = ["is required"];
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors[prefix + spanish] = ["must be a string"];
            return null;
        }

        var text = value.GetString()!.Trim();
        if (text.Length > maxLength)
        {
            errors[prefix + spanish] = [$"must be at most {maxLength} characters"];
            return null;
        }

        if (text.Length == 0)
        {
            if (required)
            {
                errors[prefix + spanish] = ["is required"];
            }

            return null;
        }

        return text;
    }
}
