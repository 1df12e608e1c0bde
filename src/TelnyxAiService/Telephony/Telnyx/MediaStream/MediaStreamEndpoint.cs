using TelnyxAiService.Audio;
using TelnyxAiService.Conversation;
using TelnyxAiService.Recordings;
using TelnyxAiService.Security;

namespace TelnyxAiService.Telephony.Telnyx.MediaStream;

/// <summary>
/// <c>/stream/media</c>: Telnyx connects here when a call with a stream is answered. The connection must present the
/// call's secret (the <c>token</c> query parameter we put in stream_url, or the x-telnyx-streaming-auth-token header),
/// and its <c>start</c> frame must name that call. A call takes one stream at a time: a second connection with the same
/// secret is refused before the upgrade and leaves the live one alone.
/// </summary>
public static partial class MediaStreamEndpoint
{
    public const string Path = "/stream/media";

    public static async Task HandleAsync(HttpContext http, SessionRegistry sessions, ConversationServices conversations, RecordingUploader recordings, FrameClock clock, TimeProvider time, EdgeRefusals refusals, ILoggerFactory loggers)
    {
        var token = http.Request.Query["token"].FirstOrDefault() ?? http.Request.Headers["x-telnyx-streaming-auth-token"].FirstOrDefault();
        if (await StreamClaims.ClaimAsync(http, token, "media", sessions, refusals) is not { } session)
        {
            return;
        }

        try
        {
            await StreamAsync(http, session, conversations, recordings, clock, time, refusals, loggers.CreateLogger(typeof(MediaStreamEndpoint)));
        }
        finally
        {
            session.DetachStream();
        }
    }

    private static async Task StreamAsync(HttpContext http, CallSession session, ConversationServices conversations, RecordingUploader recordings, FrameClock clock, TimeProvider time, EdgeRefusals refusals, ILogger logger)
    {
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(session.Ending, http.RequestAborted);
        var start = await TelnyxMediaConnection.ReadStartAsync(socket, time, cts.Token);
        if (start?.Format is not { } format || (session.CallControlId is { } expected && start.CallControlId != expected))
        {
            refusals.Refuse("media", start is null ? "no start frame" : start.Format is null ? "unsupported format" : "start frame for another call");
            await TelnyxMediaConnection.RefuseAsync(socket, time);
            return;
        }

        LogStreamStarted(logger, session.CallId, format.ToString());
        CallRecorder? recorder = null;
        TelnyxMediaConnection? connection = null;
        try
        {
            recorder = recordings.CreateRecorder(format);
            connection = new TelnyxMediaConnection(socket, format, session.CallId, clock, time, refusals, logger, recorder);
            await connection.ConverseAsync(session, conversations, cts, logger);
        }
        finally
        {
            await EndAsync(session, connection?.Stopped == true, recorder, recordings, conversations.CallControl, time, logger);
        }
    }

    /// <summary>
    /// The one place a started stream ends, whatever threw before: its recording is queued, then the session ends unless
    /// the call already ended: the caller hung up (stop), or the stream broke and we hang up (ending first, so the hangup
    /// Telnyx reports back cannot pass for the caller's).
    /// </summary>
    private static async Task EndAsync(CallSession session, bool stopped, CallRecorder? recorder, RecordingUploader recordings, ICallControl callControl, TimeProvider time, ILogger logger)
    {
        try
        {
            if (recorder is not null)
            {
                recordings.TryEnqueue(session.CallId, recorder);
            }
        }
        finally
        {
            if (session.Phase != CallPhase.Ended)
            {
                if (stopped)
                {
                    session.End(CallEndReason.RemoteHangup);
                }
                else
                {
                    session.End(CallEndReason.StreamFailed);
                    await HangUpQuietlyAsync(callControl, session, time, logger);
                }
            }
        }
    }

    private static async Task HangUpQuietlyAsync(ICallControl callControl, CallSession session, TimeProvider time, ILogger logger)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
            await callControl.HangupAsync(session.CallControlId!, timeout.Token);
        }
        catch (Exception e)
        {
            LogHangupFailed(logger, session.CallId, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId}: media stream started ({Format})")]
    private static partial void LogStreamStarted(ILogger logger, string callId, string format);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: hanging up after the stream broke failed")]
    private static partial void LogHangupFailed(ILogger logger, string callId, Exception exception);
}
