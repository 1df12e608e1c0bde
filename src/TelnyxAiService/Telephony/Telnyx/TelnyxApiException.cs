using System.Net;
using System.Text.Json;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Telephony.Telnyx;

/// <summary>One entry of a Telnyx error body <c>{"errors":[{code,title,detail}]}</c>. Codes are strings.</summary>
internal sealed record TelnyxError(string Code, string? Title, string? Detail);

/// <summary>Telnyx answered a command with an error status.</summary>
internal sealed class TelnyxApiException(HttpStatusCode statusCode, IReadOnlyList<TelnyxError> errors, bool retryable)
    : ProviderException("telnyx", Describe(statusCode, errors), retryable)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    public IReadOnlyList<TelnyxError> Errors { get; } = errors;

    public bool HasCode(string code) => Errors.Any(e => e.Code == code);

    /// <summary>Reads the error list from a response body; an unreadable body gives an empty list.</summary>
    public static IReadOnlyList<TelnyxError> ParseErrors(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("errors", out var list)
                || list.ValueKind != JsonValueKind.Array)
            {
                return [];
            }

            return [.. list.EnumerateArray()
                .Where(e => e.ValueKind == JsonValueKind.Object)
                .Select(e => new TelnyxError(Text(e, "code") ?? "", Text(e, "title"), Text(e, "detail")))];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    private static string Describe(HttpStatusCode statusCode, IReadOnlyList<TelnyxError> errors) =>
        errors.Count == 0
            ? $"HTTP {(int)statusCode}"
            : $"HTTP {(int)statusCode}: " + string.Join("; ", errors.Select(e => $"{e.Code} {e.Title}"));
}
