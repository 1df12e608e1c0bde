using TelnyxAiService.Configuration;
using TelnyxAiService.Conversation;
using TelnyxAiService.Providers;
using TelnyxAiService.Security;
using TelnyxAiService.Storage;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Calls;

/// <summary>
/// The REST API of the original service (initiate, batch, stats), open only as <see cref="Security.ApiKeyAuthentication"/> says, with durable batches:
/// a batch is stored and answered 202 at once, then dialled by the <see cref="BatchDispatcher"/>.
/// </summary>
public static class CallsEndpoints
{
    public const int MaxBatch = 1000;
    private const long MaxInitiateBytes = 16 * 1024;
    private const long MaxBatchBytes = 1024 * 1024;

    /// <summary>One batch at a time checks the queue cap and stores itself, so parallel batches cannot pass it together.</summary>
    private static readonly SemaphoreSlim QueueTurn = new(1, 1);

    public static IServiceCollection AddCalls(this IServiceCollection services)
    {
        services.AddSettings(CallsOptions.Read);
        services.AddSettings(BatchOptions.Read);
        services.AddSingleton<LiveCallLimit>();
        services.AddSingleton<CallLauncher>();
        services.AddSingleton(new SettingsCheck(sp => sp.GetRequiredService<CallLauncher>()));
        services.AddSettings(InboundOptions.Read);
        services.AddSingleton<InboundCalls>();
        services.AddHostedService(sp => sp.GetRequiredService<InboundCalls>());
        services.AddSingleton<BatchDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<BatchDispatcher>());
        return services;
    }

    public static IEndpointRouteBuilder MapCalls(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization(Security.ApiKeyAuthentication.Policy);
        api.MapPost("/call/initiate", InitiateAsync).WithRequestSizeLimit(MaxInitiateBytes).RequireTelephony();
        api.MapPost("/call/batch", BatchAsync).WithRequestSizeLimit(MaxBatchBytes).RequireTelephony();
        api.MapGet("/call/batch/{id}", BatchProgressAsync);
        api.MapPost("/call/batch/{id}/cancel", CancelBatchAsync);
        api.MapGet("/sessions/stats", (CallStats stats, SessionRegistry sessions) => Results.Json(stats.Snapshot(sessions.Count), CallsJson.Default.StatsSnapshot));
        return app;
    }

    private static async Task<IResult> InitiateAsync(HttpRequest http, CallLauncher launcher, CallsOptions options, CancellationToken cancellationToken)
    {
        var (body, problem) = await ApiJsonBody.ReadAsync(http, CallsJson.Default.CallRequestBody, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (CallRequest.Read(body, "", options.Destinations, errors) is not { } request)
        {
            return Results.ValidationProblem(errors);
        }

        try
        {
            if (await launcher.LaunchAsync(request, CancellationToken.None) is not { } call)
            {
                http.HttpContext.Response.Headers.RetryAfter = "5";
                return Results.Problem(
                    $"This instance already has MAX_CONCURRENT_CALLS ({options.MaxConcurrentCalls}) live calls; retry when one ends.",
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many live calls");
            }

            return Results.Json(new CallPlaced(call.CallId, call.CallControlId, "dialing"), CallsJson.Default.CallPlaced, statusCode: StatusCodes.Status202Accepted);
        }
        catch (ProviderException e)
        {
            return Results.Problem(
                "Telnyx did not place the call; it was stored as failed.",
                statusCode: e.Retryable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway,
                title: "The call could not be placed");
        }
    }

    private static async Task<IResult> BatchAsync(HttpRequest http, IBatchStore store, BatchDispatcher dispatcher, CallsOptions options, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        IReadOnlyList<(string Prefix, CallRequestBody? Body)>? items;
        if (BatchCsv.IsCsv(http))
        {
            if (await BatchCsv.ReadTextAsync(http, cancellationToken) is not { } text)
            {
                errors["body"] = ["is not valid UTF-8"];
                return Results.ValidationProblem(errors);
            }

            items = BatchCsv.Read(text, errors);
        }
        else if (http.HasJsonContentType())
        {
            var (body, problem) = await ApiJsonBody.ReadAsync(http, CallsJson.Default.BatchRequestBody, cancellationToken);
            if (problem is not null)
            {
                return problem;
            }

            items = JsonItems(body!, errors);
        }
        else
        {
            return Results.Problem(
                "Send the batch as JSON (Content-Type: application/json) or CSV (Content-Type: text/csv).", statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        var requests = new List<CallRequest>();
        foreach (var (prefix, item) in items ?? [])
        {
            if (CallRequest.Read(item, prefix, options.Destinations, errors) is { } request)
            {
                requests.Add(request);
            }
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "The batch was rejected: no call was queued");
        }

        var batchId = Guid.CreateVersion7().ToString("N");
        var batch = new NewBatch(batchId, [.. requests.Select(r => new NewBatchItem(r.Phone, r.Name.Length > 0 ? r.Name : null, r.Context.Length > 0 ? r.Context : null, r.Greeting))]);
        await QueueTurn.WaitAsync(cancellationToken);
        try
        {
            var queued = await store.CountQueuedItemsAsync(cancellationToken);
            if (queued + requests.Count > options.MaxQueuedCalls)
            {
                http.HttpContext.Response.Headers.RetryAfter = "60";
                return Results.Problem(
                    $"Open batches already hold {queued} numbers to call; MAX_QUEUED_CALLS is {options.MaxQueuedCalls}. No call was queued.",
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many numbers queued");
            }

            await store.CreateBatchAsync(batch, CancellationToken.None);
        }
        finally
        {
            QueueTurn.Release();
        }

        dispatcher.Wake();
        return Results.Json(new BatchQueued(batchId, requests.Count, "queued"), CallsJson.Default.BatchQueued, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>The calls of a JSON batch, each with its key prefix (<c>calls[2].</c>); null, with an error, when there are none or too many.</summary>
    private static List<(string Prefix, CallRequestBody? Body)>? JsonItems(BatchRequestBody body, Dictionary<string, string[]> errors)
    {
        if (body.Calls is not { } calls)
        {
            errors["calls"] = ["is required: an array of calls"];
            return null;
        }

        if (calls.Count is 0 or > MaxBatch)
        {
            errors["calls"] = [$"must hold 1 to {MaxBatch} calls"];
            return null;
        }

        return [.. calls.Select((call, index) => ($"calls[{index}].", call))];
    }

    private static async Task<IResult> BatchProgressAsync(string id, IBatchStore store, CancellationToken cancellationToken) =>
        await store.GetBatchProgressAsync(id, cancellationToken) is { } progress
            ? Results.Json(BatchView.Of(progress), CallsJson.Default.BatchView)
            : Results.Problem($"No batch '{id}'.", statusCode: StatusCodes.Status404NotFound);

    private static async Task<IResult> CancelBatchAsync(string id, IBatchStore store, CancellationToken cancellationToken)
    {
        if (!await store.CancelBatchAsync(id, cancellationToken))
        {
            return Results.Problem($"No batch '{id}'.", statusCode: StatusCodes.Status404NotFound);
        }

        return Results.Json(BatchView.Of((await store.GetBatchProgressAsync(id, cancellationToken))!), CallsJson.Default.BatchView);
    }
}
