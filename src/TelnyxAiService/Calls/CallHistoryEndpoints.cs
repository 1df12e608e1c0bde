using System.Globalization;
using TelnyxAiService.Recordings;
using TelnyxAiService.Storage;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Calls;

/// <summary>
/// The stored calls: a filtered, keyset-paged list, and one call with its transcript and webhook events; the batches,
/// newest first.
/// </summary>
public static class CallHistoryEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;

    /// <summary>The forms <c>from</c> and <c>to</c> take; <c>K</c> is an optional <c>Z</c> or offset.</summary>
    private static readonly string[] InstantFormats =
        ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    public static IEndpointRouteBuilder MapCallHistory(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization(Security.ApiKeyAuthentication.Policy);
        api.MapGet("/calls", ListAsync);
        api.MapGet("/calls/{id}", GetAsync);
        api.MapGet("/calls/{id}/recording", RecordingAsync).DisableRequestTimeout();
        api.MapGet("/call/batch", ListBatchesAsync);
        return app;
    }

    /// <summary>
    /// The call's WAV (caller left, agent right), served by the service from the local file or from S3 (never a redirect,
    /// so the console can play it same-origin); byte ranges for a local file only, as S3's body cannot seek.
    /// </summary>
    private static async Task<IResult> RecordingAsync(string id, HttpResponse response, ICallStore store, RecordingUploader recordings, CancellationToken cancellationToken)
    {
        if (await store.GetCallAsync(id, cancellationToken) is null)
        {
            return Results.Problem($"No call '{id}'.", statusCode: StatusCodes.Status404NotFound);
        }

        RecordingContent? wav;
        try
        {
            wav = await recordings.OpenAsync(id, cancellationToken);
        }
        catch (Providers.ProviderException)
        {
            return Results.Problem("The recording could not be fetched; retry shortly.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "The recording store is unreachable");
        }

        if (wav is null)
        {
            return Results.Problem($"Call '{id}' has no recording.", statusCode: StatusCodes.Status404NotFound);
        }

        // The result only knows the length of a seekable body; S3's is not.
        response.ContentLength = wav.Length;
        return Results.Stream(wav.Body, "audio/wav", $"{id}.wav", enableRangeProcessing: true);
    }

    private static async Task<IResult> ListAsync(HttpRequest request, ICallStore store, CancellationToken cancellationToken)
    {
        var query = request.Query;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var status = Choice<CallStatus>(query, "status", errors);
        var direction = Choice<CallDirection>(query, "direction", errors);
        var phone = Phone(query, errors);
        var from = Instant(query, "from", errors);
        var to = Instant(query, "to", errors);
        if (from is not null && to <= from)
        {
            errors["to"] = ["must be after from"];
        }

        var limit = Limit(query, errors);
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        try
        {
            var page = await store.ListCallsAsync(new CallQuery(status, Text(query, "batch"), limit, Text(query, "cursor"), direction, phone, from, to), cancellationToken);
            return Results.Json(new CallList([.. page.Calls.Select(CallView.Of)], page.NextCursor), CallsJson.Default.CallList);
        }
        catch (InvalidCursorException e)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["cursor"] = [e.Message] });
        }
    }

    private static async Task<IResult> ListBatchesAsync(HttpRequest request, IBatchStore store, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var limit = Limit(request.Query, errors);
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        try
        {
            var page = await store.ListBatchesAsync(limit, Text(request.Query, "cursor"), cancellationToken);
            return Results.Json(new BatchList([.. page.Batches.Select(BatchSummaryView.Of)], page.NextCursor), CallsJson.Default.BatchList);
        }
        catch (InvalidCursorException e)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["cursor"] = [e.Message] });
        }
    }

    private static string? Text(IQueryCollection query, string name) => query[name].ToString() is { Length: > 0 } text ? text : null;

    private static T? Choice<T>(IQueryCollection query, string name, Dictionary<string, string[]> errors)
        where T : struct, Enum
    {
        if (Text(query, name) is not { } text)
        {
            return null;
        }

        if (StorageText<T>.TryParse(text, out var value))
        {
            return value;
        }

        errors[name] = [$"must be one of {string.Join(", ", Enum.GetValues<T>().Select(StorageText<T>.Of))}"];
        return null;
    }

    /// <summary>
    /// The E.164 form of <c>phone</c>, its '+' optional: an unescaped '+' in a query string arrives as a space, and is
    /// trimmed like one.
    /// </summary>
    private static string? Phone(IQueryCollection query, Dictionary<string, string[]> errors)
    {
        if (Text(query, "phone")?.Trim() is not { Length: > 0 } text)
        {
            return null;
        }

        var phone = text.StartsWith('+') ? text : "+" + text;
        if (PhoneNumber.IsE164(phone))
        {
            return phone;
        }

        errors["phone"] = ["must be an E.164 number, its '+' optional (+34600111222 or 34600111222)"];
        return null;
    }

    /// <summary>An ISO 8601 date (midnight UTC) or date-time (UTC unless it has an offset).</summary>
    private static DateTimeOffset? Instant(IQueryCollection query, string name, Dictionary<string, string[]> errors)
    {
        if (Text(query, name) is not { } text)
        {
            return null;
        }

        if (DateTimeOffset.TryParseExact(text, InstantFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return value;
        }

        errors[name] = ["must be an ISO 8601 date (2025-03-01, midnight UTC) or date-time (2025-03-01T09:30:00Z, 2025-03-01T09:30:00%2B01:00)"];
        return null;
    }

    private static int Limit(IQueryCollection query, Dictionary<string, string[]> errors)
    {
        if (Text(query, "limit") is not { } text)
        {
            return DefaultLimit;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= MaxLimit)
        {
            return limit;
        }

        errors["limit"] = [$"must be a whole number from 1 to {MaxLimit}"];
        return DefaultLimit;
    }

    private static async Task<IResult> GetAsync(string id, ICallStore store, ITurnStore turnStore, IWebhookEventStore eventStore, CancellationToken cancellationToken)
    {
        if (await store.GetCallAsync(id, cancellationToken) is not { } call)
        {
            return Results.Problem($"No call '{id}'.", statusCode: StatusCodes.Status404NotFound);
        }

        var turns = await turnStore.GetTurnsAsync(id, cancellationToken);
        var events = await eventStore.GetEventsAsync(id, cancellationToken);
        return Results.Json(new CallDetail(CallView.Of(call), [.. turns.Select(TurnView.Of)], [.. events.Select(EventView.Of)]), CallsJson.Default.CallDetail);
    }
}
