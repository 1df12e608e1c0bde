using System.Globalization;
using TelnyxAiService.Recordings;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Calls;

/// <summary>The stored calls: a filtered, keyset-paged list, and one call with its transcript and webhook events.</summary>
public static class CallHistoryEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapCallHistory(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization(Security.ApiKeyAuthentication.Policy);
        api.MapGet("/calls", ListAsync);
        api.MapGet("/calls/{id}", GetAsync);
        api.MapGet("/calls/{id}/recording", RecordingAsync).DisableRequestTimeout();
        return app;
    }

    /// <summary>The call's WAV (caller left, agent right): the local file, or a redirect to a short-lived S3 link.</summary>
    private static async Task<IResult> RecordingAsync(string id, ICallStore store, RecordingUploader recordings, CancellationToken cancellationToken)
    {
        if (await store.GetCallAsync(id, cancellationToken) is null)
        {
            return Results.Problem($"No call '{id}'.", statusCode: StatusCodes.Status404NotFound);
        }

        try
        {
            return await recordings.FindAsync(id, cancellationToken) switch
            {
                { LocalPath: { } path } when File.Exists(path) => Results.File(path, "audio/wav", $"{id}.wav"),
                { DownloadUrl: { } url } => Results.Redirect(url.ToString()),
                _ => Results.Problem($"Call '{id}' has no recording.", statusCode: StatusCodes.Status404NotFound),
            };
        }
        catch (Providers.ProviderException)
        {
            return Results.Problem("The recording could not be fetched; retry shortly.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "The recording store is unreachable");
        }
    }

    private static async Task<IResult> ListAsync(HttpRequest request, ICallStore store, CancellationToken cancellationToken)
    {
        var query = request.Query;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        CallStatus? status = null;
        if (query["status"].ToString() is { Length: > 0 } statusText)
        {
            if (StorageText<CallStatus>.TryParse(statusText, out var parsed))
            {
                status = parsed;
            }
            else
            {
                errors["status"] = [$"must be one of {string.Join(", ", Enum.GetValues<CallStatus>().Select(StorageText<CallStatus>.Of))}"];
            }
        }

        var limit = DefaultLimit;
        if (query["limit"].ToString() is { Length: > 0 } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            errors["limit"] = [$"must be a whole number from 1 to {MaxLimit}"];
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        var batch = query["batch"].ToString();
        var cursor = query["cursor"].ToString();
        try
        {
            var page = await store.ListCallsAsync(
                new CallQuery(status, batch.Length > 0 ? batch : null, limit, cursor.Length > 0 ? cursor : null), cancellationToken);
            return Results.Json(new CallList([.. page.Calls.Select(CallView.Of)], page.NextCursor), CallsJson.Default.CallList);
        }
        catch (InvalidCursorException e)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["cursor"] = [e.Message] });
        }
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
