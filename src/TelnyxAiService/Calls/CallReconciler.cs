using TelnyxAiService.Providers;
using TelnyxAiService.Storage;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Calls;

/// <summary>
/// On startup, settles the calls a previous run of this instance left open: their sessions died with it, so each is
/// stored as <c>interrupted_by_restart</c>, and one still up at Telnyx is hung up first. A call stored but never
/// confirmed dialled is dialled again with the same command_id, which only tells us the
/// call Telnyx placed (if it did) and places none twice; an incoming call is never dialled. Runs before the server takes
/// requests.
/// </summary>
internal sealed partial class CallReconciler(
    ICallStore store,
    ICallControl callControl,
    StorageOptions storage,
    TimeProvider time,
    ILogger<CallReconciler> logger) : IHostedService
{
    private readonly DateTimeOffset _started = time.GetUtcNow();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var call in await store.ListInProgressAsync(storage.InstanceId, cancellationToken))
        {
            if (call.CreatedAt > _started)
            {
                continue;
            }

            try
            {
                await ReconcileAsync(call, cancellationToken);
            }
            catch (ProviderException e)
            {
                LogTelnyxFailed(call.Id, e);
                await store.MarkInterruptedByRestartAsync(call.Id, cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task ReconcileAsync(CallRecord call, CancellationToken cancellationToken)
    {
        var callControlId = call.CallControlId;
        if (callControlId is null && call.Direction == CallDirection.Inbound)
        {
            await store.MarkInterruptedByRestartAsync(call.Id, cancellationToken);
            LogInterrupted(call.Id, false);
            return;
        }

        if (callControlId is null)
        {
            var dialed = await callControl.DialAsync(new DialRequest(call.Phone, call.Id, call.Id, null), cancellationToken);
            await store.SetDialedAsync(call.Id, dialed, cancellationToken);
            callControlId = dialed.CallControlId;
        }

        var alive = (await callControl.GetCallAsync(callControlId, cancellationToken)).IsAlive;
        if (alive)
        {
            await callControl.HangupAsync(callControlId, cancellationToken);
        }

        await store.MarkInterruptedByRestartAsync(call.Id, cancellationToken);
        LogInterrupted(call.Id, alive);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId} was open when this instance restarted: stored as interrupted_by_restart (was still up and hung up: {WasUp})")]
    private partial void LogInterrupted(string callId, bool wasUp);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: Telnyx could not be asked about it after a restart; stored as interrupted_by_restart")]
    private partial void LogTelnyxFailed(string callId, ProviderException exception);
}
