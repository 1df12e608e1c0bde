using System.Net.WebSockets;
using TelnyxAiService.Audio;
using TelnyxAiService.Calls;
using TelnyxAiService.Conversation;
using TelnyxAiService.Recordings;
using TelnyxAiService.Security;

namespace TelnyxAiService.BrowserCalls;

/// <summary>
/// Talking to the agent from a browser: <c>POST /api/browser/calls</c> (open only as the API is) starts a call and
/// answers its socket's URL, whose per-call token is the only secret in it; <c>/stream/browser?token=…</c> is that
/// socket, where the conversation runs as on a phone call's media stream. See README for the protocol.
/// </summary>
public static partial class BrowserCallEndpoints
{
    public const string StreamPath = "/stream/browser";

    public static IServiceCollection AddBrowserCalls(this IServiceCollection services) => services.AddSingleton<BrowserCallStarter>();

    /// <remarks>After <c>MapMediaStream</c>, which turns WebSockets on.</remarks>
    public static IEndpointRouteBuilder MapBrowserCalls(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/browser/calls", CreateAsync).RequireAuthorization(ApiKeyAuthentication.Policy);
        app.Map(StreamPath, StreamAsync).DisableRequestTimeout();
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, BrowserCallStarter starter, CallsOptions options)
    {
        if (await starter.StartAsync(CancellationToken.None) is not { } session)
        {
            http.Response.Headers.RetryAfter = "5";
            return Results.Problem(
                $"This instance already has MAX_CONCURRENT_CALLS ({options.MaxConcurrentCalls}) live calls; retry when one ends.",
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many live calls");
        }

        return Results.Json(new BrowserCallCreated(session.CallId, $"{StreamPath}?token={session.StreamToken}"), CallsJson.Default.BrowserCallCreated, statusCode: StatusCodes.Status201Created);
    }

    private static async Task StreamAsync(HttpContext http, SessionRegistry sessions, ConversationServices conversations, RecordingUploader recordings, FrameClock clock, TimeProvider time, EdgeRefusals refusals, ILoggerFactory loggers)
    {
        if (await StreamClaims.ClaimAsync(http, http.Request.Query["token"].FirstOrDefault(), "browser", sessions, refusals) is not { } session)
        {
            return;
        }

        CallRecorder? recorder = null;
        BrowserConnection? connection = null;
        try
        {
            using var socket = await http.WebSockets.AcceptWebSocketAsync();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(session.Ending, http.RequestAborted);
            session.Post(new CallAnswered());
            recorder = recordings.CreateRecorder(AudioFormat.L16At16k);
            connection = new BrowserConnection(socket, session.CallId, clock, time, refusals, recorder);
            await connection.StartAsync(cts.Token);
            await connection.ConverseAsync(session, conversations, cts, loggers.CreateLogger(typeof(BrowserCallEndpoints)));
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        finally
        {
            if (recorder is not null)
            {
                recordings.TryEnqueue(session.CallId, recorder);
            }

            session.End(connection?.Stopped == true ? CallEndReason.RemoteHangup : CallEndReason.StreamFailed);
            session.DetachStream();
        }
    }
}
