using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TelnyxAiService.Configuration;
using TelnyxAiService.Conversation;
using TelnyxAiService.Providers;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Calls;

/// <summary>
/// The REST API of the original service (initiate, batch, stats) behind an optional bearer key, with durable batches:
/// a batch is stored and answered 202 at once, then dialled by the <see cref="CampaignDispatcher"/>.
/// </summary>
public static class CallsEndpoints
{
    public const int MaxBatch = 1000;

    public static IServiceCollection AddCalls(this IServiceCollection services)
    {
        services.AddSettings(CallsOptions.Read);
        services.AddSettings(CampaignOptions.Read);
        services.AddSingleton<CallLauncher>();
        services.AddSingleton(new SettingsCheck(sp => sp.GetRequiredService<CallLauncher>()));
        services.AddSettings(InboundOptions.Read);
        services.AddSingleton<InboundCalls>();
        services.AddHostedService(sp => sp.GetRequiredService<InboundCalls>());
        services.AddHostedService<CallReconciler>();
        services.AddSingleton<CampaignDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<CampaignDispatcher>());
        return services;
    }

    /// <summary>When API_KEY is set, every /api/* request needs <c>Authorization: Bearer $API_KEY</c>.</summary>
    public static WebApplication UseApiKey(this WebApplication app)
    {
        var key = app.Services.GetRequiredService<CallsOptions>().ApiKey;
        if (key is null)
        {
            return app;
        }

        var expected = Encoding.UTF8.GetBytes($"Bearer {key}");
        app.Use(async (http, next) =>
        {
            if (http.Request.Path.StartsWithSegments("/api")
                && !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(http.Request.Headers.Authorization.ToString()), expected))
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                await Results.Problem("Missing or wrong API key: send Authorization: Bearer <API_KEY>.", statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(http);
                return;
            }

            await next(http);
        });
        return app;
    }

    public static IEndpointRouteBuilder MapCalls(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapPost("/call/initiate", InitiateAsync);
        api.MapPost("/call/batch", BatchAsync);
        api.MapGet("/call/batch/{id}", BatchProgressAsync);
        api.MapPost("/call/batch/{id}/cancel", CancelBatchAsync);
        api.MapGet("/sessions/stats", (CallStats stats, SessionRegistry sessions) => Results.Ok(stats.Snapshot(sessions.Count)));
        return app;
    }

    private static async Task<IResult> InitiateAsync(JsonElement body, CallLauncher launcher)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (CallRequest.Read(body, "", errors) is not { } request)
        {
            return Results.ValidationProblem(errors);
        }

        try
        {
            var call = await launcher.LaunchAsync(request, CancellationToken.None);
            return Results.Accepted(value: new { call.CallId, call.CallControlId, Status = "dialing" });
        }
        catch (ProviderException e)
        {
            return Results.Problem(e.Message, statusCode: e.Retryable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway, title: "The call could not be placed");
        }
    }

    private static async Task<IResult> BatchAsync(JsonElement body, ICallStore store, CampaignDispatcher dispatcher)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("calls", out var calls) || calls.ValueKind != JsonValueKind.Array)
        {
            errors["calls"] = ["is required: an array of calls"];
            return Results.ValidationProblem(errors);
        }

        if (calls.GetArrayLength() is 0 or > MaxBatch)
        {
            errors["calls"] = [$"must hold 1 to {MaxBatch} calls"];
            return Results.ValidationProblem(errors);
        }

        var requests = new List<CallRequest>();
        var index = 0;
        foreach (var item in calls.EnumerateArray())
        {
            if (CallRequest.Read(item, $"calls[{index}].", errors) is { } request)
            {
                requests.Add(request);
            }

            index++;
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "The batch was rejected: no call was queued");
        }

        var batchId = Guid.CreateVersion7().ToString("N");
        await store.CreateBatchAsync(
            new NewBatch(batchId, [.. requests.Select(r => new NewBatchItem(r.Phone, r.Name.Length > 0 ? r.Name : null, r.Context.Length > 0 ? r.Context : null, r.Greeting))]),
            CancellationToken.None);
        dispatcher.Wake();
        return Results.Accepted($"/api/call/batch/{batchId}", new { BatchId = batchId, Total = requests.Count, Status = "queued" });
    }

    private static async Task<IResult> BatchProgressAsync(string id, ICallStore store, CancellationToken cancellationToken) =>
        await store.GetBatchProgressAsync(id, cancellationToken) is { } progress
            ? Results.Ok(BatchView.Of(progress))
            : Results.Problem($"No batch '{id}'.", statusCode: StatusCodes.Status404NotFound);

    private static async Task<IResult> CancelBatchAsync(string id, ICallStore store, CancellationToken cancellationToken)
    {
        if (!await store.CancelBatchAsync(id, cancellationToken))
        {
            return Results.Problem($"No batch '{id}'.", statusCode: StatusCodes.Status404NotFound);
        }

        return Results.Ok(BatchView.Of((await store.GetBatchProgressAsync(id, cancellationToken))!));
    }
}
