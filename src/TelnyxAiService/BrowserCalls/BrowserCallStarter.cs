using TelnyxAiService.Calls;
using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;
using TelnyxAiService.Storage;

namespace TelnyxAiService.BrowserCalls;

/// <summary>
/// Starts a browser call: stored and supervised like an incoming call (direction <c>browser</c>, phone
/// <see cref="Phone"/>, INBOUND_GREETING and INBOUND_CONTEXT), counted against MAX_CONCURRENT_CALLS, on an L16 16 kHz
/// stream that the browser must attach within <see cref="AttachTimeout"/>, or the call ends as failed
/// (<c>stream_failed</c>).
/// </summary>
internal sealed class BrowserCallStarter(
    LiveCallLimit limit,
    CallLauncher launcher,
    InboundCalls inbound,
    InboundOptions options,
    ConversationOptions conversation,
    StorageOptions storage,
    TimeProvider time)
{
    /// <summary>What is stored as the call's phone number: a browser call has none.</summary>
    public const string Phone = "browser";

    public static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(15);

    /// <returns>The call's session; null when MAX_CONCURRENT_CALLS calls are already live (nothing was stored).</returns>
    public async Task<CallSession?> StartAsync(CancellationToken cancellationToken)
    {
        if (!limit.TryTake())
        {
            return null;
        }

        var brief = new CallBrief("", options.Context, conversation.Language, conversation.Instructions);
        var call = new NewCall(Guid.CreateVersion7().ToString("N"), CallDirection.Browser, Phone, storage.InstanceId, Context: options.Context.Length > 0 ? options.Context : null, Greeting: inbound.Greeting);
        var (session, _) = await launcher.StartHoldingSlotAsync(call, brief, inbound.Greeting, cancellationToken);
        var unattached = time.CreateTimer(_ => EndIfUnattached(session), null, AttachTimeout, Timeout.InfiniteTimeSpan);
        session.Ending.Register(unattached.Dispose);
        return session;
    }

    private static void EndIfUnattached(CallSession session)
    {
        if (session.Phase == CallPhase.Dialing && !session.StreamAttached)
        {
            session.End(CallEndReason.StreamFailed);
        }
    }
}
