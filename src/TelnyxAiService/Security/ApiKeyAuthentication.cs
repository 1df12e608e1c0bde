using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace TelnyxAiService.Security;

/// <summary>
/// Who may use the API (<c>/api/*</c> but health): with <c>API_KEY</c> set, a request that sends
/// <c>Authorization: Bearer $API_KEY</c>, from anywhere (loopback too), compared in constant time. Without it, only a
/// request made on this machine: from a loopback address and not relayed by a proxy (no <c>Forwarded</c> or
/// <c>X-Forwarded-For</c> header), so a reverse proxy on the same host does not open the API to the network.
/// </summary>
internal sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    ApiAccessOptions access,
    EdgeRefusals refusals,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggers, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Policy = "Api";

    private readonly byte[]? _expected = access.ApiKey is { } key ? Hash($"Bearer {key}") : null;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (_expected is null)
        {
            return Task.FromResult(IsLocal(Context) ? Success("this machine") : AuthenticateResult.NoResult());
        }

        var given = Request.Headers.Authorization.ToString();
        if (given.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(CryptographicOperations.FixedTimeEquals(Hash(given), _expected)
            ? Success("api key")
            : AuthenticateResult.Fail("wrong API key"));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        string detail;
        if (_expected is null)
        {
            refusals.Refuse("api", "not on this machine, and API_KEY is not set");
            Response.StatusCode = StatusCodes.Status403Forbidden;
            detail = "API_KEY is not set, so the API answers only on this machine. Set API_KEY to use it from the network.";
        }
        else
        {
            refusals.Refuse("api", "missing or wrong API key");
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.WWWAuthenticate = "Bearer";
            detail = "Missing or wrong API key: send Authorization: Bearer <API_KEY>.";
        }

        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = Response.StatusCode, Detail = detail },
        });
    }

    private static bool IsLocal(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } remote
        && IPAddress.IsLoopback(remote)
        && !http.Request.Headers.ContainsKey("Forwarded")
        && !http.Request.Headers.ContainsKey("X-Forwarded-For");

    private static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));

    private AuthenticateResult Success(string how) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.AuthenticationMethod, how)], SchemeName)), SchemeName));
}

/// <summary>API_KEY: the bearer key of the API; unset, the API answers only on this machine.</summary>
public sealed record ApiAccessOptions(string? ApiKey)
{
    public static ApiAccessOptions Read(Configuration.SettingsReader settings) => new(settings.Optional("API_KEY"));
}
