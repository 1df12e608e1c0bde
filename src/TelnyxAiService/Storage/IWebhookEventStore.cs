namespace TelnyxAiService.Storage;

/// <summary>The Telnyx webhook events received: delivery dedupe by event id, and each call's event history.</summary>
public interface IWebhookEventStore
{
    /// <summary>Records a webhook event; false when its id was recorded before (by any instance, before any restart).</summary>
    Task<bool> TryRecordEventAsync(CallEvent callEvent, CancellationToken cancellationToken);

    /// <summary>Forgets a recorded event id, so that a redelivery of an event that could not be handled is taken again.</summary>
    Task ForgetEventAsync(string eventId, CancellationToken cancellationToken);

    /// <summary>The call's events in the order they were received.</summary>
    Task<IReadOnlyList<CallEvent>> GetEventsAsync(string callId, CancellationToken cancellationToken);
}
