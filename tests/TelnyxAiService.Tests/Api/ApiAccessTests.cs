using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Api;

/// <summary>Nothing that places calls or reads stored calls answers the network without the API key.</summary>
public sealed class ApiAccessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("POST", "/api/call/initiate")]
    [InlineData("POST", "/api/call/batch")]
    [InlineData("GET", "/api/calls")]
    [InlineData("GET", "/api/calls/abc")]
    [InlineData("GET", "/api/calls/abc/recording")]
    [InlineData("GET", "/api/call/batch/abc")]
    [InlineData("POST", "/api/call/batch/abc/cancel")]
    [InlineData("GET", "/api/sessions/stats")]
    [InlineData("GET", "/api/live")]
    [InlineData("GET", "/metrics")]
    public async Task NoApiKey_FromAnotherMachine_Is403AndDialsNothing(string method, string path)
    {
        await using var harness = await StartAsync();
        await using var remote = RemoteView(harness);
        var response = await SendFromAsync(remote, "203.0.113.7", method, path, """{"telefono":"+34600111222"}""");
        Assert.Equal(StatusCodes.Status403Forbidden, response.Response.StatusCode);
        Assert.Contains("API_KEY", await new StreamReader(response.Response.Body).ReadToEndAsync(Ct), StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "dial");
    }

    [Fact]
    public async Task NoApiKey_FromAnotherMachine_HealthStillAnswers()
    {
        await using var harness = await StartAsync();
        await using var remote = RemoteView(harness);
        var response = await SendFromAsync(remote, "203.0.113.7", "GET", "/api/health", null);
        Assert.Equal(StatusCodes.Status200OK, response.Response.StatusCode);
    }

    [Fact]
    public async Task NoApiKey_ThroughAProxyOnThisMachine_Is403()
    {
        await using var harness = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/calls");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        Assert.Equal(HttpStatusCode.Forbidden, (await harness.Client.SendAsync(request, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await harness.Client.GetAsync("/api/calls", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("/api/calls")]
    [InlineData("/metrics")]
    public async Task ApiKey_FromAnotherMachine_NeedsTheKey(string path)
    {
        await using var harness = await StartAsync(new() { ["API_KEY"] = "s3cret" });
        await using var remote = RemoteView(harness);
        var refused = await SendFromAsync(remote, "203.0.113.7", "GET", path, null);
        Assert.Equal(StatusCodes.Status401Unauthorized, refused.Response.StatusCode);
        Assert.Equal("Bearer", refused.Response.Headers.WWWAuthenticate.ToString());
        var allowed = await SendFromAsync(remote, "203.0.113.7", "GET", path, null, "Bearer s3cret");
        Assert.Equal(StatusCodes.Status200OK, allowed.Response.StatusCode);
    }

    [Fact]
    public async Task ApiKey_FromThisMachine_StillNeedsTheKey()
    {
        await using var harness = await StartAsync(new() { ["API_KEY"] = "s3cret" });
        var response = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111222" }, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("traceId", out _));
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "dial");
    }

    /// <summary>The same service configuration, in process, where a test can say which address a request comes from.</summary>
    private static WebApplicationFactory<Program> RemoteView(ServiceHarness harness) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            foreach (var (key, value) in harness.Settings)
            {
                builder.UseSetting(key, value);
            }
        });

    private static Task<HttpContext> SendFromAsync(WebApplicationFactory<Program> factory, string address, string method, string path, string? json, string? authorization = null) =>
        factory.Server.SendAsync(http =>
        {
            http.Connection.RemoteIpAddress = IPAddress.Parse(address);
            http.Request.Method = method;
            http.Request.Path = path;
            if (authorization is not null)
            {
                http.Request.Headers.Authorization = authorization;
            }

            if (json is not null)
            {
                http.Request.ContentType = "application/json";
                http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));
            }
        }, Ct);

    private static Task<ServiceHarness> StartAsync(Dictionary<string, string>? settings = null) =>
        ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false, Settings = settings ?? [] }, Ct);
}
