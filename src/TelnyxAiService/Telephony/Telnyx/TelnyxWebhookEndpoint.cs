using System.Collections.Concurrent;
using TelnyxAiService.Conversation;

namespace TelnyxAiService.Telephony.Telnyx;

/// <summary>
/// <c>POST /webhook/telnyx</c>: verify the signature over the raw body, drop duplicates (Telnyx retries), and hand the
/// event to its call's session without waiting for the work it causes, so Telnyx gets its 200 at once.
/// </summary>
public static partial class TelnyxWebhookEndpoint
{
    public const string Path = "/webhook/telnyx";
    private const int MaxBodyBytes = 256 * 1024;

    internal static async Task<IResult> HandleAsync(HttpContext http, TelnyxWebhookGate gate, SessionRegistry sessions, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(TelnyxWebhookEndpoint));
        if (http.Request.ContentLength > MaxBodyBytes)
        {
            return Results.Problem("Webhook body too large.", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted);
        if (body.Length > MaxBodyBytes)
        {
            return Results.Problem("Webhook body too large.", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        var raw = body.GetBuffer().AsSpan(0, (int)body.Length);
        if (gate.Verify(http.Request.Headers, raw) is { } refusal)
        {
            LogRefused(logger, refusal);
            return Results.Problem($"Webhook refused: {refusal}.", statusCode: StatusCodes.Status401Unauthorized);
        }

        if (!TelnyxWebhookEvent.TryParse(raw, out var webhook, out var error))
        {
            return Results.Problem($"Malformed Telnyx webhook: {error}.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (!gate.FirstDelivery(webhook!.Id))
        {
            return Results.Ok(new { Status = "duplicate" });
        }

        var session = sessions.Find(webhook.ClientState, webhook.CallControlId);
        if (session is null || ToCallEvent(webhook) is not { } callEvent)
        {
            return Results.Ok(new { Status = "ignored" });
        }

        if (!session.Post(callEvent))
        {
            gate.Forget(webhook.Id);
            return Results.Problem("The call is busy; retry.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return Results.Ok(new { Status = "accepted" });
    }

    private static CallEvent? ToCallEvent(TelnyxWebhookEvent webhook) => webhook.EventType switch
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a Telnyx webhook: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);
}

/// <summary>Signature check (secure by default) and delivery dedupe by event id, remembered for a day.</summary>
internal sealed class TelnyxWebhookGate(TelnyxOptions options, TimeProvider time)
{
    private static readonly TimeSpan Remember = TimeSpan.FromHours(24);
    private const int MaxRemembered = 100_000;
    private readonly TelnyxWebhookVerifier? _verifier = options.PublicKey is { } key ? new TelnyxWebhookVerifier(key, time) : null;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    /// <summary>Null when the request may proceed, otherwise why it is refused.</summary>
    public string? Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body)
    {
        if (!options.VerifyWebhooks)
        {
            return null;
        }

        if (_verifier is null)
        {
            return "TELNYX_PUBLIC_KEY is not set, so no webhook can be verified";
        }

        var result = _verifier.Verify(headers, body);
        return result == WebhookVerification.Valid ? null : result.ToString();
    }

    public bool FirstDelivery(string eventId)
    {
        var now = time.GetUtcNow();
        if (_seen.Count > MaxRemembered)
        {
            foreach (var (id, at) in _seen)
            {
                if (now - at > Remember)
                {
                    _seen.TryRemove(id, out _);
                }
            }
        }

        return _seen.TryAdd(eventId, now);
    }

    public void Forget(string eventId) => _seen.TryRemove(eventId, out _);
}
