using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;

namespace TelnyxAiService.Security;

/// <summary>
/// The last word on an exception no endpoint handled: a problem detail with a generic message and the trace id, never
/// the exception's text. A refused request (<see cref="BadHttpRequestException"/>) keeps its 4xx; an unreachable store
/// is a 503 with Retry-After; anything else is logged and a 500.
/// </summary>
internal sealed partial class EdgeExceptionHandler(IProblemDetailsService problems, ILogger<EdgeExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "The request was refused"),
            DbException => (StatusCodes.Status503ServiceUnavailable, "The call store is unavailable; retry shortly"),
            _ => (StatusCodes.Status500InternalServerError, "The request failed unexpectedly"),
        };
        if (status >= 500)
        {
            LogFailed(logger, http.Request.Method, LogText.Escape(http.Request.Path.Value), exception);
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            http.Response.Headers.RetryAfter = "5";
        }

        http.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Status = status, Title = title }, Exception = exception });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void LogFailed(ILogger logger, string method, string path, Exception exception);
}
