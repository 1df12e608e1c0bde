using TelnyxAiService.Security;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Conversation;

/// <summary>Who may attach a call's audio WebSocket: the connection that presents its stream token, one at a time.</summary>
public static class StreamClaims
{
    /// <summary>
    /// Finds the live call whose stream token the request presents and claims its stream for this connection
    /// (<see cref="CallSession.TryAttachStream"/>). Otherwise answers the refusal before any upgrade (400 not a WebSocket
    /// request, 401 unknown token or a call of the other kind, 409 already attached), counts it, and returns null.
    /// </summary>
    /// <param name="surface">The edge surface: <c>media</c> (Telnyx, phone calls) or <c>browser</c> (browser calls).</param>
    public static async Task<CallSession?> ClaimAsync(HttpContext http, string? token, string surface, SessionRegistry sessions, EdgeRefusals refusals)
    {
        var browser = surface == "browser";
        if (!http.WebSockets.IsWebSocketRequest)
        {
            refusals.Refuse(surface, "not a WebSocket request");
            await Results.Problem($"This endpoint only accepts {(browser ? "browser call" : "Telnyx media-stream")} WebSocket connections.", statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(http);
            return null;
        }

        var session = token is null ? null : sessions.FindByStreamToken(token);
        if (session is null || (session.Direction == CallDirection.Browser) != browser)
        {
            refusals.Refuse(surface, "unknown or missing stream token");
            await Results.Problem("Unknown or missing stream token.", statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(http);
            return null;
        }

        if (!session.TryAttachStream())
        {
            refusals.Refuse(surface, "stream already attached");
            await Results.Problem("The call already has a media stream.", statusCode: StatusCodes.Status409Conflict).ExecuteAsync(http);
            return null;
        }

        return session;
    }
}
