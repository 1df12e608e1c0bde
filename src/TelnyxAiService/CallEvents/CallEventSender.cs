using System.Net.Http.Headers;
using System.Text.Json;
using Polly;
using Polly.Retry;
using TelnyxAiService.Providers;
using TelnyxAiService.Recordings;
using TelnyxAiService.Resilience;
using TelnyxAiService.Storage;

namespace TelnyxAiService.CallEvents;

/// <summary>
/// Sends the end-of-call webhook: each delivery in the outbox (<see cref="ICallEventStore"/>, written with the call's end)
/// is POSTed to <c>CALL_EVENTS_URL</c>, signed (<see cref="CallEventSignature"/>), with a body built from the store at
/// that moment. Woken when a call ends here, and every <see cref="PollInterval"/> it claims what is due (ends stored by
/// other instances, deliveries a stopped or crashed instance let go of), up to <see cref="MaxInFlight"/> at once.
/// <para>
/// Any answer but a 2xx (a 4xx too: the receiver is misconfigured, and it may be fixed), a connection failure or no
/// answer within <see cref="AttemptTimeout"/> is retried by a Polly pipeline, backing off exponentially with jitter from
/// <see cref="FirstRetry"/> up to <see cref="MaxRetry"/> (or what a Retry-After asks, capped the same), until
/// <see cref="GiveUpAfter"/> from the call's end; then it is given up with an error in the log. Every failed attempt
/// is stored with its error and the time of the next one plus <see cref="Hold"/>, so that another instance takes the
/// delivery over only if this one is gone; on stop, deliveries in progress are made due at once for the next run.
/// </para>
/// </summary>
internal sealed partial class CallEventSender(
    CallEventsOptions options,
    CallEventOutbox outbox,
    ICallEventStore deliveries,
    ICallStore calls,
    ITurnStore turns,
    RecordingUploader recordings,
    IHttpClientFactory httpClients,
    TimeProvider time,
    ILogger<CallEventSender> logger) : BackgroundService
{
    public const string HttpClientName = "call-events";

    /// <summary>Deliveries this instance sends (or waits to retry) at once.</summary>
    public const int MaxInFlight = 64;

    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromHours(24);

    /// <summary>How long past its next attempt a delivery stays held by the instance sending it.</summary>
    public static readonly TimeSpan Hold = AttemptTimeout + TimeSpan.FromSeconds(20);

    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(10);

    private static readonly ResiliencePropertyKey<CallEventDelivery> DeliveryKey = new("call-event-delivery");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled)
        {
            return;
        }

        LogEnabled(options.Url!.GetLeftPart(UriPartial.Authority));
        var pipeline = BuildPipeline();
        var running = new Dictionary<string, Task>();
        try
        {
            while (true)
            {
                foreach (var done in running.Where(r => r.Value.IsCompleted).Select(r => r.Key).ToList())
                {
                    running.Remove(done);
                }

                if (running.Count < MaxInFlight)
                {
                    foreach (var delivery in await ClaimAsync(MaxInFlight - running.Count, stoppingToken))
                    {
                        running.TryAdd(delivery.CallId, DeliverAsync(pipeline, delivery, stoppingToken));
                    }
                }

                await outbox.WaitAsync(PollInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(running.Values);
    }

    private async Task<IReadOnlyList<CallEventDelivery>> ClaimAsync(int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        try
        {
            return await deliveries.ClaimDueAsync(limit, now, now + Hold, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogClaimFailed(e);
            return [];
        }
    }

    /// <summary>Sends one delivery until it is accepted, given up or the service stops; stores how it went.</summary>
    private async Task DeliverAsync(ResiliencePipeline<Failure?> pipeline, CallEventDelivery delivery, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(DeliveryKey, delivery);
        try
        {
            string? error;
            try
            {
                error = (await pipeline.ExecuteAsync(static (c, sender) => sender.AttemptAsync(c), context, this))?.Error;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await deliveries.ReleaseAsync(delivery.CallId, time.GetUtcNow(), CancellationToken.None);
                return;
            }
            catch (Exception e)
            {
                error = e.Message;
            }

            if (error is null)
            {
                await deliveries.MarkDeliveredAsync(delivery.CallId, time.GetUtcNow(), CancellationToken.None);
                LogDelivered(delivery.CallId, delivery.EventId);
            }
            else
            {
                await deliveries.RecordFailureAsync(delivery.CallId, error, null, CancellationToken.None);
                LogGaveUp(delivery.CallId, delivery.EventId, GiveUpAfter.TotalHours, error);
            }
        }
        catch (Exception e)
        {
            LogNotStored(delivery.CallId, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
            outbox.Wake();
        }
    }

    /// <summary>One POST of the event; null when the receiver accepted it.</summary>
    private async ValueTask<Failure?> AttemptAsync(ResilienceContext context)
    {
        var delivery = context.Properties.GetValue(DeliveryKey, null!);
        var cancellationToken = context.CancellationToken;
        var body = await BodyAsync(delivery, cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(CallEventSignature.SignatureHeader, CallEventSignature.Sign(options.Secret, time.GetUtcNow().ToUnixTimeSeconds(), body));
        request.Headers.Add(CallEventSignature.EventIdHeader, delivery.EventId);
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return response.IsSuccessStatusCode ? null : new Failure($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", RetryAfter.Of(response, time));
    }

    /// <summary>The event as the store has the call now (its recording may have been saved since the last attempt).</summary>
    private async Task<byte[]> BodyAsync(CallEventDelivery delivery, CancellationToken cancellationToken)
    {
        var call = await calls.GetCallAsync(delivery.CallId, cancellationToken)
            ?? throw new InvalidOperationException($"call {delivery.CallId} is not stored");
        var transcript = await turns.GetTurnsAsync(delivery.CallId, cancellationToken);
        RecordingView? recording = null;
        if (recordings.Enabled)
        {
            RecordingLocation? saved = null;
            try
            {
                saved = await recordings.FindAsync(delivery.CallId, cancellationToken);
            }
            catch (ProviderException e)
            {
                LogRecordingUnknown(delivery.CallId, e);
            }

            recording = RecordingView.Of(delivery.CallId, saved);
        }

        var ended = new CallEndedEvent(delivery.EventId, CallEndedEvent.EventType, delivery.CreatedAt, EndedCall.Of(call, transcript, recording));
        return JsonSerializer.SerializeToUtf8Bytes(ended, CallEventsJson.Default.CallEndedEvent);
    }

    private ResiliencePipeline<Failure?> BuildPipeline() => new ResiliencePipelineBuilder<Failure?> { TimeProvider = time }
        .AddRetry(new RetryStrategyOptions<Failure?>
        {
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = FirstRetry,
            MaxDelay = MaxRetry,
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome switch
                {
                    { Exception: OperationCanceledException } => !args.Context.CancellationToken.IsCancellationRequested,
                    { Exception: not null } or { Result: not null } => true,
                    _ => false,
                }
                && time.GetUtcNow() < args.Context.Properties.GetValue(DeliveryKey, null!).CreatedAt + GiveUpAfter),
            DelayGenerator = args => ValueTask.FromResult(
                args.Outcome.Result?.RetryAfter is { } wait ? TimeSpan.FromTicks(Math.Clamp(wait.Ticks, 0, MaxRetry.Ticks)) : (TimeSpan?)null),
            OnRetry = RecordRetryAsync,
        })
        .AddTimeout(AttemptTimeout)
        .Build();

    /// <summary>Stores the failed attempt and when the next one is due (plus <see cref="Hold"/>), for a restart or another instance.</summary>
    private async ValueTask RecordRetryAsync(OnRetryArguments<Failure?> args)
    {
        var delivery = args.Context.Properties.GetValue(DeliveryKey, null!);
        var error = args.Outcome.Result?.Error ?? args.Outcome.Exception?.Message ?? "failed";
        LogRetrying(delivery.CallId, delivery.Attempts + args.AttemptNumber + 1, error, args.RetryDelay.TotalSeconds);
        try
        {
            await deliveries.RecordFailureAsync(delivery.CallId, error, time.GetUtcNow() + args.RetryDelay + Hold, args.Context.CancellationToken);
        }
        catch (Exception e) when (!args.Context.CancellationToken.IsCancellationRequested)
        {
            LogNotStored(delivery.CallId, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "End-of-call webhook on: every ended call is POSTed to {Receiver}")]
    private partial void LogEnabled(string receiver);

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId}: end-of-call event {EventId} delivered")]
    private partial void LogDelivered(string callId, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: end-of-call event attempt {Attempt} failed ({Error}); retrying in {Seconds:0.0} s")]
    private partial void LogRetrying(string callId, int attempt, string error, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId}: end-of-call event {EventId} given up after {Hours} h; last error: {Error}")]
    private partial void LogGaveUp(string callId, string eventId, double hours, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for due end-of-call events failed; trying again shortly")]
    private partial void LogClaimFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: the state of its end-of-call event was not stored; it may be sent again")]
    private partial void LogNotStored(string callId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: where its recording is could not be looked up; the event gives only the API path")]
    private partial void LogRecordingUnknown(string callId, Exception exception);

    /// <param name="RetryAfter">What the receiver asked to wait, if anything.</param>
    private sealed record Failure(string Error, TimeSpan? RetryAfter);
}
