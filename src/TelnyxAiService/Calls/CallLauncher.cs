using TelnyxAiService.Audio;
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
    ITurnStore turnStore,
    CallStoreWriter writer,
    StorageOptions storage,
    TelnyxOptions telnyx,
    ConversationOptions conversation,
    IEnumerable<ProviderInfo> providers,
    CallsOptions calls,
    LiveCalls.LiveCallFeed feed,
    TimeProvider time,
    ILogger<CallLauncher> logger)
{
    /// <summary>
    /// The stream's audio: MEDIA_CODEC (<see cref="CallsOptions.MediaCodec"/>) end to end with the vendors, which speak
    /// all three codecs, so there is no transcoding; always L16 16 kHz when an offline engine listens or speaks, since
    /// pocketsphinx and flite work only at 16 kHz.
    /// </summary>
    private readonly AudioFormat _streamFormat =
        providers.Any(p => p.Mode == ProviderMode.Offline && p.Capability is "speech-to-text" or "text-to-speech") ? AudioFormat.L16At16k : calls.MediaCodec;

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
    /// Places a batch item's call under <paramref name="callId"/> once a live-call slot is free; a failed dial ends it
    /// as failed.
    /// </summary>
    /// <returns>
    /// Completes once the call has ended and its end is stored; null, with nothing stored or dialled, when
    /// <paramref name="draining"/> is cancelled before a slot is free.
    /// </returns>
    public async Task<Task<StoredStatus?>?> LaunchItemAsync(BatchItem item, string callId, CancellationToken draining, CancellationToken cancellationToken)
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
    /// A browser call is always on a stream in L16 16 kHz, what the browser records and plays.
    /// </summary>
    /// <returns>The session, and a task that completes once the call has ended and its end is stored.</returns>
    internal async Task<(CallSession Session, Task<StoredStatus?> Finished)> StartSessionAsync(NewCall call, CallBrief brief, string greeting, DialResult? placed, CancellationToken cancellationToken)
    {
        var format = call.Direction == CallDirection.Browser ? AudioFormat.L16At16k : telnyx.UseMediaStreams ? _streamFormat : (AudioFormat?)null;
        var session = new CallSession(call.Id, call.Phone, brief, greeting, format is not null, time.GetUtcNow()) { Writer = writer, Time = time, Feed = feed, Direction = call.Direction };
        await store.InsertCallAsync(
            call with { InstanceId = storage.LeaseHolder, StreamToken = session.StreamToken, StreamFormat = format?.ToString() },
            cancellationToken);
        if (placed is not null)
        {
            await store.SetDialedAsync(call.Id, placed, cancellationToken);
        }

        if (placed is not null)
        {
            sessions.SetCallControlId(session, placed.CallControlId);
        }

        return (session, supervisor.Start(session));
    }

    /// <summary>
    /// Continues a call that another run of the service began (taken over with its lease). A call Telnyx reports ended
    /// is stored with its outcome (completed once answered: it is never dialled again as unanswered), and so is a browser
    /// call, which has no Telnyx leg and whose socket was on the run that ended; a call never
    /// confirmed dialled is dialled with its own command_id, which places it at most once. A live call gets a session
    /// with its history and, once answered, the agent first says one short line (on a media stream, Telnyx is asked to
    /// open a new stream here, same codec, fresh token; otherwise with speak, so a conversation whose last event was lost
    /// in the crash goes on); an incoming call not yet answered is answered again (same command_id); otherwise the
    /// session waits for the call's next webhook.
    /// </summary>
    /// <returns>Completes once the resumed call has ended and its end is stored (null: handed over again); null when the call had already ended.</returns>
    /// <exception cref="ProviderException">Telnyx could not be asked; the call stays taken and open.</exception>
    public async Task<Task<StoredStatus?>?> ResumeAsync(CallRecord call, CancellationToken cancellationToken)
    {
        var callControlId = call.CallControlId;
        if (callControlId is null && call.Direction == CallDirection.Outbound)
        {
            var dialed = await callControl.DialAsync(
                new DialRequest(call.Phone, call.Id, call.Id, call.StreamToken is { } token ? StreamRequest(token, call.StreamFormat) : null), cancellationToken);
            await store.SetDialedAsync(call.Id, dialed, cancellationToken);
            callControlId = dialed.CallControlId;
        }

        if (callControlId is null || !(await callControl.GetCallAsync(callControlId, cancellationToken)).IsAlive)
        {
            var status = call.AnsweredAt is null ? StoredStatus.NoAnswer : StoredStatus.Completed;
            await store.SetEndedAsync(call.Id, status, "ended_while_unattended", null, cancellationToken);
            LogEndedUnattended(call.Id, status);
            return null;
        }

        var answered = call.AnsweredAt is not null;
        var media = call.StreamFormat is not null;
        var phrases = Phrases.For(conversation.Language);
        var brief = new CallBrief(call.Name ?? "", call.Context ?? "", conversation.Language, conversation.Instructions);
        var greeting = answered ? phrases.Resumed : call.Greeting ?? phrases.GreetingFor(call.Name ?? "");
        var session = new CallSession(call.Id, call.Phone, brief, greeting, media, call.CreatedAt, answered ? null : call.StreamToken) { Writer = writer, Time = time, Feed = feed, Direction = call.Direction };
        var turns = await turnStore.GetTurnsAsync(call.Id, cancellationToken);
        session.Resume([.. turns.Select(t => new ChatMessage(t.Speaker, t.Text, t.Interrupted))], call.AnsweredAt);
        sessions.SetCallControlId(session, callControlId);
        var finished = supervisor.Start(session);
        try
        {
            if (media && answered)
            {
                await callControl.StartStreamingAsync(callControlId, StreamRequest(session.StreamToken!, call.StreamFormat), $"{call.Id}:{storage.LeaseHolder}", cancellationToken);
            }
            else if (answered)
            {
                await callControl.SpeakAsync(callControlId, greeting, conversation.Language, cancellationToken);
                session.AddToHistory(new ChatMessage(Llm.Speaker.Agent, greeting));
            }
            else if (call.Direction == CallDirection.Inbound)
            {
                await callControl.AnswerAsync(callControlId, call.Id, media ? StreamRequest(session.StreamToken!, call.StreamFormat) : null, cancellationToken);
            }
        }
        catch (Exception e) when (ProviderException.Of("telnyx", e, cancellationToken) is { } failure)
        {
            LogResumeFailed(call.Id, failure);
            session.End(CallEndReason.StreamFailed);
        }

        LogResumed(call.Id, turns.Count, answered);
        return finished;
    }

    /// <summary>The media stream Telnyx should open for the session (null in Call Control mode): our URL with its token.</summary>
    internal MediaStreamRequest? StreamFor(CallSession session) => session.StreamToken is { } token ? StreamRequest(token, null) : null;

    /// <param name="format">The call's stored stream format (<c>PCMU/8000</c>); null for this instance's own.</param>
    private MediaStreamRequest StreamRequest(string token, string? format)
    {
        var (codec, rate) = format?.Split('/') is [var c, var r] && int.TryParse(r, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
            ? (c, parsed)
            : (_streamFormat.TelnyxCodec, _streamFormat.SampleRate);
        return new MediaStreamRequest(new Uri($"{telnyx.StreamUrl}?token={token}"), token, codec, rate);
    }

    /// <summary>
    /// Starts a call that holds a live-call slot (taken by the caller, see <see cref="LiveCallLimit"/>); the slot is
    /// given back when the session ends, or at once when it cannot start.
    /// </summary>
    internal async Task<(CallSession Session, Task<StoredStatus?> Finished)> StartHoldingSlotAsync(NewCall call, CallBrief brief, string greeting, CancellationToken cancellationToken)
    {
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

    private Task<(CallSession Session, Task<StoredStatus?> Finished)> StartAsync(CallRequest request, string callId, BatchItem? item, CancellationToken cancellationToken)
    {
        var brief = new CallBrief(request.Name, request.Context, conversation.Language, conversation.Instructions);
        var greeting = request.Greeting ?? Phrases.For(conversation.Language).GreetingFor(request.Name);
        var call = new NewCall(callId, CallDirection.Outbound, request.Phone, storage.InstanceId, request.Name, request.Context, greeting, item?.BatchId, item?.Id);
        return StartHoldingSlotAsync(call, brief, greeting, cancellationToken);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId} taken over and resumed with {Turns} turns before (answered: {Answered})")]
    private partial void LogResumed(string callId, int turns, bool answered);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId} taken over: it ended while no instance held it; stored as {Status}")]
    private partial void LogEndedUnattended(string callId, StoredStatus status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId} taken over: Telnyx refused to continue it")]
    private partial void LogResumeFailed(string callId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId} dialled")]
    private partial void LogDialed(string callId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: dial failed")]
    private partial void LogDialFailed(string callId, Exception exception);
}
