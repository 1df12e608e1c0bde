using TelnyxAiService.Audio;
using TelnyxAiService.Configuration;
using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;
using TelnyxAiService.Telephony;
using TelnyxAiService.Telephony.Telnyx;

namespace TelnyxAiService.Calls;

public sealed record LaunchedCall(string CallId, string CallControlId);

/// <summary>Places one outbound call: its session exists before the dial, so no webhook can arrive for an unknown call.</summary>
public sealed partial class CallLauncher(
    SessionRegistry sessions,
    CallSupervisor supervisor,
    ICallControl callControl,
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
    private readonly AudioFormat _streamFormat = providers.Any(p => p.Mode == ProviderMode.Offline && p.Capability is "speech-to-text" or "text-to-speech")
        ? AudioFormat.L16At16k
        : settings.Text("MEDIA_CODEC", "PCMU").ToUpperInvariant() switch
        {
            "PCMU" => AudioFormat.Pcmu8k,
            "PCMA" => AudioFormat.Pcma8k,
            "L16" => AudioFormat.L16At16k,
            var other => throw new InvalidSettingException("MEDIA_CODEC", $"must be PCMU, PCMA or L16, got '{other}'"),
        };

    /// <exception cref="ProviderException">The dial failed; the session is ended.</exception>
    public async Task<LaunchedCall> LaunchAsync(CallRequest request, CancellationToken cancellationToken)
    {
        var callId = Guid.CreateVersion7().ToString("N");
        var brief = new CallBrief(request.Name, request.Context, conversation.Language, conversation.Instructions);
        var greeting = request.Greeting ?? Phrases.For(conversation.Language).GreetingFor(request.Name);
        var session = new CallSession(callId, request.Phone, brief, greeting, telnyx.UseMediaStreams, time.GetUtcNow());
        supervisor.Start(session);
        var stream = session.StreamToken is { } token
            ? new MediaStreamRequest(new Uri($"{telnyx.StreamUrl}?token={token}"), token, _streamFormat.TelnyxCodec, _streamFormat.SampleRate)
            : null;
        try
        {
            var dialed = await callControl.DialAsync(new DialRequest(request.Phone, callId, callId, stream), cancellationToken);
            sessions.SetCallControlId(session, dialed.CallControlId);
            LogDialed(callId);
            return new LaunchedCall(callId, dialed.CallControlId);
        }
        catch (Exception e) when (e is ProviderException or OperationCanceledException)
        {
            LogDialFailed(callId, e);
            session.End(CallEndReason.DialFailed);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId} dialled")]
    private partial void LogDialed(string callId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: dial failed")]
    private partial void LogDialFailed(string callId, Exception exception);
}
