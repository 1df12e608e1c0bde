using System.Text;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Conversation;

/// <summary>
/// Reads a call's telephony events. In Call Control mode (no media stream) it is the whole conversation: Telnyx
/// listens (transcription) and speaks (speak) for us. With a media stream it only handles what Telnyx reports about
/// the call; the <see cref="StreamConversation"/> does the talking.
/// </summary>
public sealed partial class CallControlConversation(
    ICallControl callControl,
    IAgent agent,
    ConversationOptions options,
    CallStats stats,
    TimeProvider time,
    ILogger<CallControlConversation> logger)
{
    private readonly Phrases _phrases = Phrases.For(options.Language);

    public async Task RunAsync(CallSession session)
    {
        var ct = session.Ending;
        using var timeLimit = time.CreateTimer(_ => session.Post(new TimeLimitReached()), null, options.MaxCallDuration, Timeout.InfiniteTimeSpan);
        var transcribing = false;
        CallEndReason? endAfterSpeaking = null;
        await foreach (var callEvent in session.Events.ReadAllAsync(ct))
        {
            try
            {
                switch (callEvent)
                {
                    case CallAnswered when session.Phase == CallPhase.Dialing:
                        session.MarkAnswered();
                        stats.CallAnswered();
                        if (!session.UseMediaStream)
                        {
                            await SpeakAsync(session, session.Greeting, ct);
                            session.AddToHistory(new ChatMessage(Speaker.Agent, session.Greeting));
                        }

                        break;
                    case SpeakEnded when endAfterSpeaking is { } reason:
                        await callControl.HangupAsync(session.CallControlId!, ct);
                        session.End(reason);
                        break;
                    case SpeakEnded when !session.UseMediaStream && !transcribing:
                        await callControl.StartTranscriptionAsync(session.CallControlId!, options.Language, ct);
                        transcribing = true;
                        break;
                    case TranscriptReceived { IsFinal: true } transcript when !session.UseMediaStream && !string.IsNullOrWhiteSpace(transcript.Text):
                        endAfterSpeaking ??= await ReplyAsync(session, transcript.Text.Trim(), ct);
                        break;
                    case DigitPressed digit when !session.UseMediaStream:
                        endAfterSpeaking ??= await ReplyAsync(session, $"[pressed {digit.Digit}]", ct);
                        break;
                    case StreamFailed failed:
                        LogStreamFailed(session.CallId, failed.Reason);
                        await SpeakAsync(session, _phrases.StreamFailed, ct);
                        endAfterSpeaking = CallEndReason.StreamFailed;
                        break;
                    case TimeLimitReached when session.UseMediaStream && session.Stream is { } stream:
                        stream.Post(new StreamConversation.TimeLimit());
                        break;
                    case TimeLimitReached when session.CallControlId is null:
                        session.End(CallEndReason.TimeLimit);
                        break;
                    case TimeLimitReached:
                        await SpeakAsync(session, _phrases.TimeLimitGoodbye, ct);
                        endAfterSpeaking = CallEndReason.TimeLimit;
                        break;
                }
            }
            catch (Exception e) when (ProviderException.Of("telnyx", e, ct) is { } failure)
            {
                LogCommandFailed(session.CallId, callEvent.GetType().Name, failure.Provider, failure);
            }
        }
    }

    private Task SpeakAsync(CallSession session, string text, CancellationToken ct) =>
        callControl.SpeakAsync(session.CallControlId!, text, options.Language, ct);

    /// <summary>Answers the caller through Telnyx speak; returns how the call should end after it, if it should.</summary>
    private async Task<CallEndReason?> ReplyAsync(CallSession session, string callerText, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        TimeSpan? firstToken = null;
        var reply = new StringBuilder();
        CallEndReason? end = null;
        await foreach (var output in agent.ReplyOrFallbackAsync(session.RequestFor(callerText), _phrases.Fallback, e => LogAgentFailed(session.CallId, e.Provider, e), ct))
        {
            switch (output)
            {
                case TextDelta delta:
                    firstToken ??= time.GetElapsedTime(started);
                    reply.Append(delta.Text);
                    break;
                case EndCallRequested:
                    end = CallEndReason.AgentHangup;
                    break;
                case TransferRequested when options.TransferNumber is not null:
                    end = CallEndReason.Transferred;
                    break;
            }
        }

        var text = reply.ToString().Trim();
        session.AddToHistory(new ChatMessage(Speaker.Caller, callerText));
        var timings = new TurnTimings(TimeSpan.Zero, firstToken, null, null, null);
        if (text.Length > 0)
        {
            await SpeakAsync(session, text, ct);
            timings = timings with { FirstAgentFrame = time.GetElapsedTime(started) };
            stats.TurnMeasured(session, timings, time.GetUtcNow());
            LogTurn(session.CallId, timings);
        }

        session.AddToHistory(new ChatMessage(Speaker.Agent, text), timings);

        if (end == CallEndReason.Transferred)
        {
            await callControl.TransferAsync(session.CallControlId!, options.TransferNumber!, ct);
            session.End(CallEndReason.Transferred);
        }

        return end;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId} turn: {Latency}")]
    private partial void LogTurn(string callId, TurnTimings latency);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: the agent ({Provider}) failed, speaking the fallback line")]
    private partial void LogAgentFailed(string callId, string provider, ProviderException exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: the media stream failed ({Reason})")]
    private partial void LogStreamFailed(string callId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: handling {Event} failed ({Provider})")]
    private partial void LogCommandFailed(string callId, string @event, string provider, ProviderException exception);
}
