using System.Data.Common;
using System.Text;
using TelnyxAiService.Conversation;
using TelnyxAiService.Security;

namespace TelnyxAiService.Telephony.Telnyx;

/// <summary>
/// <c>POST /webhook/telnyx</c>: verify the signature over the raw body, drop duplicates (Telnyx retries; the event ids
/// are stored, so this holds across restarts and instances), and hand the event to its call's session without waiting
/// for the work it causes, so Telnyx gets its 200 at once. A call held by another instance gets the event through
/// PostgreSQL NOTIFY (<see cref="Storage.CallNotifier"/>). An incoming call we do not know yet (call.initiated, direction
/// incoming) goes to <see cref="Calls.InboundCalls"/>, which stores it and answers it.
/// </summary>
public static partial class TelnyxWebhookEndpoint
{
    public const string Path = "/webhook/telnyx";
    public const int MaxBodyBytes = 256 * 1024;

    /// <summary>Delivers webhooks that other instances relay to the sessions this instance holds.</summary>
    public static IServiceCollection AddRelayedWebhooks(this IServiceCollection services) =>
        services.AddHostedService<RelayedWebhookReader>();

    internal static async Task<IResult> HandleAsync(
        HttpContext http,
        TelnyxWebhookGate gate,
        SessionRegistry sessions,
        Storage.CallNotifier notifier,
        Calls.InboundCalls inbound,
        EdgeRefusals refusals,
        Storage.ICallStore store,
        Storage.StorageOptions storage,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(TelnyxWebhookEndpoint));
        if (http.Request.ContentLength > MaxBodyBytes)
        {
            refusals.Refuse("webhook", "too-large");
            return Results.Problem("Webhook body too large.", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted);

        var raw = new ReadOnlyMemory<byte>(body.GetBuffer(), 0, (int)body.Length);
        if (gate.Verify(http.Request.Headers, raw.Span) is { } refusal)
        {
            refusals.Refuse("webhook", refusal);
            return Results.Problem("Webhook refused.", statusCode: StatusCodes.Status401Unauthorized);
        }

        if (!TelnyxWebhookEvent.TryParse(raw.Span, out var webhook, out var error))
        {
            refusals.Refuse("webhook", "malformed");
            return Results.Problem($"Malformed Telnyx webhook: {error}.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (!await gate.FirstDeliveryAsync(webhook, http.RequestAborted))
        {
            return Ack("duplicate");
        }

        if (webhook is { EventType: "call.initiated", Direction: "incoming", CallControlId: { } callControlId, CallLegId: { } legId, CallSessionId: { } sessionId }
            && sessions.Find(webhook.ClientState, callControlId) is null)
        {
            try
            {
                await inbound.AcceptAsync(new DialResult(callControlId, legId, sessionId), webhook.From ?? "anonymous", http.RequestAborted);
            }
            catch (DbException e)
            {
                LogIncomingNotStored(logger, e);
                await gate.ForgetAsync(webhook.Id, CancellationToken.None);
                return Results.Problem("The call could not be stored; retry.", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            return Ack("answering");
        }

        if (ToTelephonyEvent(webhook) is not { } callEvent)
        {
            return Ack("ignored");
        }

        if (sessions.Find(webhook.ClientState, webhook.CallControlId) is not { } session)
        {
            if (sessions.IsArriving(webhook.ClientState, webhook.CallControlId) || await HeldByEarlierRunAsync(webhook, store, storage, http.RequestAborted))
            {
                await gate.ForgetAsync(webhook.Id, http.RequestAborted);
                return Results.Problem("The call is being taken over here; retry.", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            if (!notifier.Enabled)
            {
                return Ack("ignored");
            }

            await notifier.PublishAsync(Encoding.UTF8.GetString(raw.Span), http.RequestAborted);
            return Ack("relayed");
        }

        if (session.CallControlId is null && webhook.CallControlId is { } dialed)
        {
            // Under load the call's first webhooks can overtake the answer to its dial, which is what records this id.
            sessions.SetCallControlId(session, dialed);
        }

        if (!session.Post(callEvent))
        {
            if (session.Ending.IsCancellationRequested)
            {
                return Ack("ignored");
            }

            await gate.ForgetAsync(webhook.Id, http.RequestAborted);
            return Results.Problem("The call is busy; retry.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return Ack("accepted");
    }

    /// <summary>
    /// Hands a webhook relayed by another instance to its session, when this instance holds it. The event was verified
    /// and deduplicated by the instance that received it.
    /// </summary>
    internal static void DeliverRelayed(string body, SessionRegistry sessions)
    {
        if (TelnyxWebhookEvent.TryParse(Encoding.UTF8.GetBytes(body), out var webhook, out _)
            && ToTelephonyEvent(webhook) is { } callEvent
            && sessions.Find(webhook.ClientState, webhook.CallControlId) is { } session)
        {
            session.Post(callEvent);
        }
    }

    /// <summary>
    /// An open call an earlier run of this instance held, not taken over yet (<see cref="Failover.CallLeases"/>): Telnyx
    /// must deliver the event again once it is, rather than have it acknowledged and lost.
    /// </summary>
    private static async Task<bool> HeldByEarlierRunAsync(TelnyxWebhookEvent webhook, Storage.ICallStore store, Storage.StorageOptions storage, CancellationToken cancellationToken)
    {
        var call = (webhook.ClientState is { } callId ? await store.GetCallAsync(callId, cancellationToken) : null)
            ?? (webhook.CallControlId is { } callControlId ? await store.FindByCallControlIdAsync(callControlId, cancellationToken) : null);
        return call is { EndedAt: null }
            && call.InstanceId != storage.LeaseHolder
            && Storage.StorageOptions.InstanceOf(call.InstanceId) == storage.InstanceId;
    }

    private static IResult Ack(string status) => Results.Json(new WebhookAck(status), TelnyxJson.Default.WebhookAck);

    private static TelephonyEvent? ToTelephonyEvent(TelnyxWebhookEvent webhook) => webhook.EventType switch
    {
        "call.answered" => new CallAnswered(),
        "call.speak.ended" => new SpeakEnded(),
        "call.transcription" when webhook.Transcript is { } transcript => new TranscriptReceived(transcript, webhook.IsFinal ?? true),
        "call.dtmf.received" when webhook.Digit is { } digit => new DigitPressed(digit),
        "streaming.started" => new StreamStarted(),
        "streaming.failed" => new StreamFailed(webhook.FailureReason ?? "unknown"),
        "call.hangup" => new CallHungUp(webhook.HangupCause, webhook.HangupSource),
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "An incoming call could not be stored; Telnyx will redeliver its call.initiated")]
    private static partial void LogIncomingNotStored(ILogger logger, Exception exception);
}

/// <summary>Signature check (secure by default) and delivery dedupe by event id, through the store.</summary>
internal sealed class TelnyxWebhookGate(TelnyxOptions options, Storage.IWebhookEventStore store, TimeProvider time)
{
    private readonly TelnyxWebhookVerifier? _verifier = options.PublicKey is { } key ? new TelnyxWebhookVerifier(key, time) : null;

    /// <summary>Null when the request may proceed, otherwise why it is refused, in our own words.</summary>
    public string? Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body)
    {
        if (!options.VerifyWebhooks)
        {
            return null;
        }

        if (_verifier is null)
        {
            return "no-public-key";
        }

        var result = _verifier.Verify(headers, body);
        return result == WebhookVerification.Valid ? null : result.ToString();
    }

    /// <summary>Records the event; false when any instance recorded its id before, in this run or an earlier one.</summary>
    public Task<bool> FirstDeliveryAsync(TelnyxWebhookEvent webhook, CancellationToken cancellationToken) =>
        store.TryRecordEventAsync(new Storage.CallEvent(webhook.Id, webhook.ClientState, webhook.EventType, time.GetUtcNow()), cancellationToken);

    public Task ForgetAsync(string eventId, CancellationToken cancellationToken) => store.ForgetEventAsync(eventId, cancellationToken);
}

/// <summary>Reads the webhooks other instances relay and hands each to its session here, if this instance holds it.</summary>
internal sealed class RelayedWebhookReader(Storage.CallNotifier notifier, SessionRegistry sessions) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var body in notifier.ReadAllAsync(stoppingToken))
            {
                TelnyxWebhookEndpoint.DeliverRelayed(body, sessions);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
