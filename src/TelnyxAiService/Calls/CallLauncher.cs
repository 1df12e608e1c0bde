using TelnyxAiService.Audio;
using TelnyxAiService.Configuration;
using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;
using TelnyxAiService.Storage;
using TelnyxAiService.Telephony;
using TelnyxAiService.Telephony.Telnyx;
using StoredStatus = TelnyxAiService.Storage.CallStatus;

namespace TelnyxAiService.Calls;

public sealed record LaunchedCall(string CallId, string CallControlId);

/// <summary>
/// Places one outbound call (and starts the sessions of incoming ones, see <see cref="InboundCalls"/>): its record is stored and its session exists before the dial, so no crash loses it and no
/// webhook can arrive for an unknown call. The dial's command_id is our call id, so repeating it never dials twice.
/// </summary>
internal sealed partial class CallLauncher(
    LiveCallLimit limit,
    SessionRegistry sessions,
    CallSupervisor supervisor,
    ICallControl callControl,
    ICallStore store,
    CallStoreWriter writer,
    StorageOptions storage,
    TelnyxOptions telnyx,
    ConversationOptions conversation,
    IEnumerable<ProviderInfo> providers,
    SettingsReader settings,
    TimeProvider time,
    ILogger<CallLauncher> logger)
{
    /// <summary>
    /// The stream's audio: MEDIA_CODEC (PCMU or PCMA at 8 kHz, L16 at 16 kHz; default PCMU) end to end with the
    /// vendors, which speak all three, so there is no transcoding; always L16 16 kHz when an offline engine listens or
    /// speaks, since pocketsphinx and flite work only at 16 kHz.
    /// </summary>
    private readonly AudioFormat _streamFormat = StreamFormat(settings, providers);

    private static AudioFormat StreamFormat(SettingsReader settings, IEnumerable<ProviderInfo> providers)
    {
        var configured = settings.Text("MEDIA_CODEC", "PCMU").ToUpperInvariant() switch
        {
            "PCMU" => AudioFormat.Pcmu8k,
            "PCMA" => AudioFormat.Pcma8k,
            "L16" => AudioFormat.L16At16k,
            var other => throw new InvalidSettingException("MEDIA_CODEC", $"must be PCMU, PCMA or L16, got '{other}'"),
        };
        return providers.Any(p => p.Mode == ProviderMode.Offline && p.Capability is "speech-to-text" or "text-to-speech")
            ? AudioFormat.L16At16k
            : configured;
    }

    /// <returns>The placed call, or null when MAX_CONCURRENT_CALLS calls are already live (nothing was stored or dialled).</returns>
    /// <exception cref="ProviderException">The dial failed; the session is ended and the call stored as failed.</exception>
    public async Task<LaunchedCall?> LaunchAsync(CallRequest request, CancellationToken cancellationToken)
    {
        if (!limit.TryTake())
        {
            return null;
        }

        var (session, _) = await StartAsync(request, Guid.CreateVersion7().ToString("N"), null, cancellationToken);
        var dialed = await DialAsync(session, cancellationToken);
        return new LaunchedCall(session.CallId, dialed.CallControlId);
    }

    /// <summary>
    /// Places a campaign item's call under <paramref name="callId"/> once a live-call slot is free; a failed dial ends it
    /// as failed.
    /// </summary>
    /// <returns>
    /// Completes once the call has ended and its end is stored; null, with nothing stored or dialled, when
    /// <paramref name="draining"/> is cancelled before a slot is free.
    /// </returns>
    public async Task<Task<StoredStatus>?> LaunchItemAsync(BatchItem item, string callId, CancellationToken draining, CancellationToken cancellationToken)
    {
        try
        {
            await limit.TakeAsync(draining);
        }
        catch (OperationCanceledException) when (draining.IsCancellationRequested)
        {
            return null;
        }

        var request = new CallRequest(item.Phone, item.Name ?? "", item.Context ?? "", item.Greeting);
        var (session, finished) = await StartAsync(request, callId, item, cancellationToken);
        try
        {
            await DialAsync(session, cancellationToken);
        }
        catch (ProviderException)
        {
        }

        return finished;
    }

    /// <summary>
    /// Stores the call and starts its supervised session, before anything is asked of Telnyx. A call Telnyx already
    /// placed (an incoming one) comes with its ids: they are stored and the session is found by its call_control_id.
    /// </summary>
    /// <returns>The session, and a task that completes once the call has ended and its end is stored.</returns>
    internal async Task<(CallSession Session, Task<StoredStatus> Finished)> StartSessionAsync(NewCall call, CallBrief brief, string greeting, DialResult? placed, CancellationToken cancellationToken)
    {
        await store.InsertCallAsync(call, cancellationToken);
        if (placed is not null)
        {
            await store.SetDialedAsync(call.Id, placed, cancellationToken);
        }

        var session = new CallSession(call.Id, call.Phone, brief, greeting, telnyx.UseMediaStreams, time.GetUtcNow()) { Writer = writer, Time = time };
        if (placed is not null)
        {
            sessions.SetCallControlId(session, placed.CallControlId);
        }

        return (session, supervisor.Start(session));
    }

    /// <summary>The media stream Telnyx should open for the session (null in Call Control mode): our URL with its token.</summary>
    internal MediaStreamRequest? StreamFor(CallSession session) => session.StreamToken is { } token
        ? new MediaStreamRequest(new Uri($"{telnyx.StreamUrl}?token={token}"), token, _streamFormat.TelnyxCodec, _streamFormat.SampleRate)
        : null;

    /// <summary>Starts an outbound call that holds a live-call slot; the slot is given back when the session ends.</summary>
    private async Task<(CallSession Session, Task<StoredStatus> Finished)> StartAsync(CallRequest request, string callId, BatchItem? item, CancellationToken cancellationToken)
    {
        var brief = new CallBrief(request.Name, request.Context, conversation.Language, conversation.Instructions);
        var greeting = request.Greeting ?? Phrases.For(conversation.Language).GreetingFor(request.Name);
        var call = new NewCall(callId, CallDirection.Outbound, request.Phone, storage.InstanceId, request.Name, request.Context, greeting, item?.BatchId, item?.Id);
        try
        {
            var started = await StartSessionAsync(call, brief, greeting, null, cancellationToken);
            started.Session.Ending.Register(limit.Release);
            return started;
        }
        catch
        {
            limit.Release();
            throw;
        }
    }

    private async Task<DialResult> DialAsync(CallSession session, CancellationToken cancellationToken)
    {
        try
        {
            var dialed = await callControl.DialAsync(new DialRequest(session.Phone, session.CallId, session.CallId, StreamFor(session)), cancellationToken);
            sessions.SetCallControlId(session, dialed.CallControlId);
            await store.SetDialedAsync(session.CallId, dialed, cancellationToken);
            LogDialed(session.CallId);
            return dialed;
        }
        catch (Exception e) when (e is ProviderException or OperationCanceledException)
        {
            LogDialFailed(session.CallId, e);
            session.End(CallEndReason.DialFailed);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId} dialled")]
    private partial void LogDialed(string callId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: dial failed")]
    private partial void LogDialFailed(string callId, Exception exception);
}
