using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TelnyxAiService.Calls;

/// <summary>
/// Reads an API request's JSON body into its typed record (source-generated, strict about types): 415 when it is not
/// JSON, 400 naming the field when a value has the wrong type or the text is not valid JSON, UTF-8 or UTF-16 (unpaired
/// surrogates). A body past the endpoint's size limit, or too slow, is refused by Kestrel and answered by
/// <see cref="Security.EdgeExceptionHandler"/> (413, 408).
/// </summary>
internal static class ApiJsonBody
{
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, Results.Problem("Send the body as JSON (Content-Type: application/json).", statusCode: StatusCodes.Status415UnsupportedMediaType));
        }

        try
        {
            return await JsonSerializer.DeserializeAsync(request.Body, type, cancellationToken) is { } value
                ? (value, null)
                : (null, Invalid("body", "must be a JSON object"));
        }
        catch (JsonException e)
        {
            return (null, FieldAt(e.Path) is { } field
                ? Invalid(field, "has the wrong type, or holds text that is not valid UTF-8 or UTF-16")
                : Invalid("body", "is not valid JSON (or not UTF-8 text)"));
        }
    }

    /// <summary>
    /// The field a <see cref="JsonException.Path"/> names (<c>$.calls[2].telefono</c> gives <c>calls[2].telefono</c>), when
    /// it is one of ours: made of lower-case names, indexes and dots, so no request text is echoed.
    /// </summary>
    private static string? FieldAt(string? path) =>
        path is { Length: > 2 and < 64 } && path.StartsWith("$.", StringComparison.Ordinal)
        && !path.AsSpan(2).ContainsAnyExcept("abcdefghijklmnopqrstuvwxyz_.[]0123456789")
            ? path[2..]
            : null;

    private static IResult Invalid(string field, string problem) =>
        Results.ValidationProblem(new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [problem] });
}
