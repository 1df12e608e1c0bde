using System.Collections.Concurrent;
using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;
using TelnyxAiService.Storage;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Calls;

/// <summary>
/// Takes the calls people make to our Telnyx number. On <c>call.initiated</c> (incoming, parked) the call is stored with
/// its Telnyx ids and its session started under its call_control_id, then it is answered in the background with
/// <c>client_state</c> = our call id (and the media stream, as for a dialled call). From <c>call.answered</c> on, the
/// conversation is the one of an outbound call, greeting first. Answers still running are awaited on shutdown.
/// </summary>
internal sealed partial class InboundCalls(
    CallLauncher launcher,
    ICallStore store,
    ICallControl callControl,
    InboundOptions options,
    ConversationOptions conversation,
    StorageOptions storage,
    IHostApplicationLifetime lifetime,
    ILogger<InboundCalls> logger) : IHostedService
{
    private readonly List<Task> _answering = [];
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _accepting = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The agent's first words: INBOUND_GREETING, or a welcome in the agent's language.</summary>
    public string Greeting { get; } = options.Greeting
        ?? (conversation.Language.StartsWith("es", StringComparison.Ordinal)
            ? "Hola, gracias por llamar. ¿En qué puedo ayudarle?"
            : "Hello, thanks for calling. How can I help you?");

    /// <summary>
    /// Stores the incoming call and starts its session; the answer is sent in the background. Once per call: a repeated
    /// call.initiated (at the same time, or after the call was stored) gets the same call id and does nothing.
    /// </summary>
    /// <param name="placed">The call's Telnyx ids, from its call.initiated.</param>
    /// <param name="from">The caller's number.</param>
    /// <returns>Our call id.</returns>
    public async Task<string> AcceptAsync(DialResult placed, string from, CancellationToken cancellationToken)
    {
        var accepting = _accepting.GetOrAdd(placed.CallControlId, _ => new Lazy<Task<string>>(() => AcceptOnceAsync(placed, from, cancellationToken)));
        try
        {
            return await accepting.Value;
        }
        finally
        {
            _accepting.TryRemove(KeyValuePair.Create(placed.CallControlId, accepting));
        }
    }

    private async Task<string> AcceptOnceAsync(DialResult placed, string from, CancellationToken cancellationToken)
    {
        if (await store.FindByCallControlIdAsync(placed.CallControlId, cancellationToken) is { } known)
        {
            return known.Id;
        }

        var callId = Guid.CreateVersion7().ToString("N");
        var brief = new CallBrief("", options.Context, conversation.Language, conversation.Instructions);
        var call = new NewCall(callId, CallDirection.Inbound, from, storage.InstanceId, Context: options.Context.Length > 0 ? options.Context : null, Greeting: Greeting);
        var (session, _) = await launcher.StartSessionAsync(call, brief, Greeting, placed, cancellationToken);
        var answer = AnswerAsync(session, session.Ending);
        lock (_gate)
        {
            _answering.RemoveAll(t => t.IsCompleted);
            _answering.Add(answer);
        }

        LogAccepted(callId);
        return callId;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Waits for the answers still being sent; they give up once the application is stopping.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task[] answering;
        lock (_gate)
        {
            answering = [.. _answering];
        }

        await Task.WhenAll(answering).WaitAsync(cancellationToken);
    }

    /// <param name="ending">The session's <see cref="CallSession.Ending"/>, taken while the session is surely alive.</param>
    private async Task AnswerAsync(CallSession session, CancellationToken ending)
    {
        await Task.Yield();
        using var answering = CancellationTokenSource.CreateLinkedTokenSource(ending, lifetime.ApplicationStopping);
        try
        {
            await callControl.AnswerAsync(session.CallControlId!, session.CallId, launcher.StreamFor(session), answering.Token);
        }
        catch (ProviderException e)
        {
            LogAnswerFailed(session.CallId, e);
            session.End(CallEndReason.DialFailed);
        }
        catch (OperationCanceledException) when (answering.IsCancellationRequested)
        {
            session.End(CallEndReason.HandedOver);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Incoming call {CallId} taken; answering")]
    private partial void LogAccepted(string callId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incoming call {CallId}: the answer failed")]
    private partial void LogAnswerFailed(string callId, Exception exception);
}
