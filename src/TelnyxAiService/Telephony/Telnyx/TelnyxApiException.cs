using System.Net;
using System.Text.Json;
using TelnyxAiService.Providers;
using TelnyxAiService.Security;

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
        try
        {
            return JsonSerializer.Deserialize(body, TelnyxJson.Default.TelnyxErrorBody)?.Errors is { } errors
                ? [.. errors.Select(e => new TelnyxError(e.Code ?? "", e.Title, e.Detail))]
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>Only the status, codes and titles: the detail and anything else upstream stays out of the message.</summary>
    private static string Describe(HttpStatusCode statusCode, IReadOnlyList<TelnyxError> errors) =>
        errors.Count == 0
            ? $"HTTP {(int)statusCode}"
            : $"HTTP {(int)statusCode}: " + string.Join("; ", errors.Select(e => LogText.Escape($"{e.Code} {e.Title}")));
}
