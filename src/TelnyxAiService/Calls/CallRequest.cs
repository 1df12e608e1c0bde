using System.Text.Json.Serialization;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Calls;

/// <summary>
/// A call to place, as the original API takes it: <c>telefono</c>, <c>nombre</c>, <c>contexto</c>, <c>saludo</c>
/// (or <c>phone</c>, <c>name</c>, <c>context</c>, <c>greeting</c>).
/// </summary>
public sealed record CallRequest(string Phone, string Name, string Context, string? Greeting)
{
    public const int MaxPhone = 16;
    public const int MaxName = 100;
    public const int MaxContext = 4000;
    public const int MaxGreeting = 500;

    /// <summary>Validates one call as sent; problems are added to <paramref name="errors"/> under "<paramref name="prefix"/>field".</summary>
    public static CallRequest? Read(CallRequestBody? body, string prefix, DestinationPolicy destinations, Dictionary<string, string[]> errors)
    {
        if (body is null)
        {
            errors[prefix.TrimEnd('.')] = ["must be a JSON object"];
            return null;
        }

        var before = errors.Count;
        var phone = Field(body.Telefono ?? body.Phone, prefix + "telefono", MaxPhone, required: true, errors);
        var name = Field(body.Nombre ?? body.Name, prefix + "nombre", MaxName, required: false, errors);
        var context = Field(body.Contexto ?? body.Context, prefix + "contexto", MaxContext, required: false, errors);
        var greeting = Field(body.Saludo ?? body.Greeting, prefix + "saludo", MaxGreeting, required: false, errors);
        if (phone is not null && !PhoneNumber.IsE164(phone))
        {
            errors[prefix + "telefono"] = ["must be an E.164 number: '+' and 8 to 15 digits, e.g. +34600111222"];
        }
        else if (phone is not null && destinations.Refusal(phone) is { } refusal)
        {
            errors[prefix + "telefono"] = [refusal];
        }

        return errors.Count == before ? new CallRequest(phone!, name ?? "", context ?? "", greeting) : null;
    }

    private static string? Field(string? value, string key, int maxLength, bool required, Dictionary<string, string[]> errors)
    {
        var text = value?.Trim();
        if (text is null or { Length: 0 })
        {
            if (required)
            {
                errors[key] = ["is required"];
            }

            return null;
        }

        if (text.Length > maxLength)
        {
            errors[key] = [$"must be at most {maxLength} characters"];
            return null;
        }

        return text;
    }
}

/// <summary>The JSON of one call to place, Spanish or English field names.</summary>
public sealed record CallRequestBody(
    string? Telefono = null,
    string? Nombre = null,
    string? Contexto = null,
    string? Saludo = null,
    string? Phone = null,
    string? Name = null,
    string? Context = null,
    string? Greeting = null);

/// <summary><c>POST /api/call/batch</c>: <c>{"calls":[...]}</c>.</summary>
public sealed record BatchRequestBody(IReadOnlyList<CallRequestBody?>? Calls = null);

internal sealed record CallPlaced(string CallId, string CallControlId, string Status);

internal sealed record BatchQueued(string BatchId, int Total, string Status);

/// <summary><c>POST /api/browser/calls</c>: the call and its socket's path, with the call's stream token.</summary>
internal sealed record BrowserCallCreated(string CallId, string StreamUrl);

/// <summary>The API's request and response bodies (health and stats included), by source generation.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CallRequestBody))]
[JsonSerializable(typeof(BatchRequestBody))]
[JsonSerializable(typeof(CallPlaced))]
[JsonSerializable(typeof(BatchQueued))]
[JsonSerializable(typeof(BrowserCallCreated))]
[JsonSerializable(typeof(BatchView))]
[JsonSerializable(typeof(BatchList))]
[JsonSerializable(typeof(CallList))]
[JsonSerializable(typeof(CallDetail))]
[JsonSerializable(typeof(Conversation.StatsSnapshot))]
[JsonSerializable(typeof(Health.HealthReport))]
[JsonSerializable(typeof(LiveCalls.LiveEvent))]
internal sealed partial class CallsJson : JsonSerializerContext;
