using System.Net.WebSockets;
using TelnyxAiService.Audio;
using TelnyxAiService.Conversation;
using TelnyxAiService.Recordings;

namespace TelnyxAiService.Telephony.Telnyx.MediaStream;

/// <summary>
/// <c>/stream/media</c>: Telnyx connects here when a call with a stream is answered. The connection must present the
/// call's secret (the <c>token</c> query parameter we put in stream_url, or the x-telnyx-streaming-auth-token header),
/// and its <c>start</c> frame must name that call.
/// </summary>
public static partial class MediaStreamEndpoint
{
    public const string Path = "/stream/media";

    public static async Task HandleAsync(HttpContext http, SessionRegistry sessions, ConversationServices conversations, RecordingUploader recordings, FrameClock clock, TimeProvider time, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(MediaStreamEndpoint));
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem("This endpoint only accepts Telnyx media-stream WebSocket connections.", statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(http);
            return;
        }

        var token = http.Request.Query["token"].FirstOrDefault() ?? http.Request.Headers["x-telnyx-streaming-auth-token"].FirstOrDefault();
        var session = token is null ? null : sessions.FindByStreamToken(token);
        if (session is null)
        {
            LogRejected(logger, "unknown or missing stream token");
            await Results.Problem("Unknown or missing stream token.", statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(http);
            return;
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(session.Ending, http.RequestAborted);
        StreamStart? start;
        using (var startTimeout = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
        {
            startTimeout.CancelAfter(TimeSpan.FromSeconds(10));
            start = await TelnyxMediaConnection.ReadStartAsync(socket, startTimeout.Token);
        }

        if (start?.Format is not { } format || (session.CallControlId is { } expected && start.CallControlId != expected))
        {
            LogRejected(logger, start is null ? "no start frame" : $"start frame for another call or unsupported format {start.Encoding}/{start.SampleRate}");
            await RefuseAsync(socket);
            return;
        }

        LogStreamStarted(logger, session.CallId, format.ToString());
        var recorder = recordings.CreateRecorder(format);
        var connection = new TelnyxMediaConnection(socket, format, session.CallId, clock, time, logger, recorder);
        var transport = connection.RunAsync(cts.Token);
        var conversation = conversations.ConverseAsync(session, connection, cts.Token);
        await Task.WhenAny(transport, conversation);
        await cts.CancelAsync();
        await Task.WhenAll(transport, conversation);
        if (recorder is not null)
        {
            recordings.TryEnqueue(session.CallId, recorder);
        }
        if (session.Status != CallStatus.Ended)
        {
            if (connection.Stopped)
            {
                session.End(CallEndReason.RemoteHangup);
            }
            else
            {
                await HangUpQuietlyAsync(conversations.CallControl, session, logger);
                session.End(CallEndReason.StreamFailed);
            }
        }
    }

    /// <summary>Closes a stream that did not start properly, unless it is already gone.</summary>
    private static async Task RefuseAsync(WebSocket socket)
    {
        if (socket.State != WebSocketState.Open)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "bad start", timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            socket.Abort();
        }
    }

    private static async Task HangUpQuietlyAsync(ICallControl callControl, CallSession session, ILogger logger)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await callControl.HangupAsync(session.CallControlId!, timeout.Token);
        }
        catch (Exception e) when (e is Providers.ProviderException or OperationCanceledException)
        {
            LogHangupFailed(logger, session.CallId, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected a media-stream connection: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId}: media stream started ({Format})")]
    private static partial void LogStreamStarted(ILogger logger, string callId, string format);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: hanging up after the stream broke failed")]
    private static partial void LogHangupFailed(ILogger logger, string callId, Exception exception);
}
