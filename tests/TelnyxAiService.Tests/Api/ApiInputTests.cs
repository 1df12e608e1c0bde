using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TelnyxAiService.Calls;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Api;

/// <summary>Bad input from anyone gets a clear 4xx, never a 500, and places no call.</summary>
public sealed class ApiInputTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/api/call/initiate", "{not json")]
    [InlineData("/api/call/initiate", "[1,2,3]")]
    [InlineData("/api/call/initiate", "\"+34600111222\"")]
    [InlineData("/api/call/initiate", """{"telefono":34600111222}""")]
    [InlineData("/api/call/initiate", """{"telefono":"+34600111222","nombre":{"a":1}}""")]
    [InlineData("/api/call/batch", "{not json")]
    [InlineData("/api/call/batch", """{"calls":"+34600111222"}""")]
    [InlineData("/api/call/batch", """{"calls":[]}""")]
    [InlineData("/api/call/batch", """{"calls":[{"telefono":"+34600111222"},{"telefono":"12"}]}""")]
    [InlineData("/api/call/batch", """{"calls":[{"telefono":"+34600111222"},7]}""")]
    [InlineData("/webhook/telnyx", "{not json")]
    public async Task Post_BadBody_Is4xxAndDialsNothing(string path, string body)
    {
        await using var harness = await StartAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = await harness.Client.PostAsync(path, content, Ct);
        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "dial");
    }

    [Fact]
    public async Task Batch_OneBadItem_RejectedWholeNamingIt()
    {
        await using var harness = await StartAsync();
        var response = await harness.Client.PostAsJsonAsync(
            "/api/call/batch",
            new { calls = new object[] { new { telefono = "+34600111222" }, new { telefono = "+34600111333" }, new { telefono = "0034600" } } },
            Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(problem.GetProperty("errors").TryGetProperty("calls[2].telefono", out _));

        // A valid call placed afterwards is dialled: had any of the batch been dialled, it would have been by now.
        var placed = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111444", nombre = "Ana" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, placed.StatusCode);
        await harness.Telnyx.WaitForCommandAsync(c => c.Action == "dial", TimeSpan.FromSeconds(10), Ct);
        Assert.Equal("+34600111444", Assert.Single(harness.Telnyx.Commands, c => c.Action == "dial").Body.GetProperty("to").GetString());
    }

    [Fact]
    public async Task Initiate_BadPhone_ProblemNamesTheField()
    {
        await using var harness = await StartAsync();
        var response = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "600 111 222", nombre = "Ana" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("E.164", problem.GetProperty("errors").GetProperty("telefono")[0].GetString());
    }

    [Theory]
    [InlineData("/api/call/initiate", """{"telefono":34600111222}""", "telefono")]
    [InlineData("/api/call/initiate", """{"telefono":"+34600111222","saludo":"\ud800"}""", "saludo")]
    [InlineData("/api/call/batch", """{"calls":[{"telefono":"+34600111222"},{"phone":{"n":1}}]}""", "calls[1].phone")]
    [InlineData("/api/call/batch", """{"calls":{"0":{}}}""", "calls")]
    [InlineData("/api/call/initiate", """{"telefono":"+34600111222","\r\nForged":[}""", "body")]
    public async Task Post_WrongType_ProblemNamesOnlyOurField(string path, string body, string field)
    {
        await using var harness = await StartAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = await harness.Client.PostAsync(path, content, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal([field], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Fact]
    public async Task Initiate_WrongContentType_Is415()
    {
        await using var harness = await StartAsync();
        using var content = new StringContent("telefono=+34600111222", Encoding.UTF8, "application/x-www-form-urlencoded");
        var response = await harness.Client.PostAsync("/api/call/initiate", content, Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Theory]
    [InlineData("/api/call/initiate")]
    [InlineData("/api/call/batch")]
    [InlineData("/webhook/telnyx")]
    public async Task Post_OversizedBody_Is413(string path)
    {
        await using var harness = await StartAsync();
        var huge = $"{{\"telefono\":\"+34600111222\",\"contexto\":\"{new string('x', 2 * 1024 * 1024)}\"}}";
        using var content = new StringContent(huge, Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.ExpectContinue = true;
        var response = await harness.Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.True(response.Headers.ConnectionClose, "a refused body closes its connection cleanly");
        Assert.Equal(413, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await harness.Client.GetAsync("/api/health", Ct)).StatusCode);
    }

    [Fact]
    public async Task Api_WithApiKey_RequiresBearer()
    {
        await using var harness = await StartAsync(new() { ["API_KEY"] = "s3cret" });
        Assert.Equal(HttpStatusCode.Unauthorized, (await harness.Client.GetAsync("/api/sessions/stats", Ct)).StatusCode);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/sessions/stats");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
        Assert.Equal(HttpStatusCode.Unauthorized, (await harness.Client.SendAsync(wrong, Ct)).StatusCode);
        using var right = new HttpRequestMessage(HttpMethod.Get, "/api/sessions/stats");
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await harness.Client.SendAsync(right, Ct)).StatusCode);
    }

    [Fact]
    public async Task Health_EmulatedProviders_ReportsEachMode()
    {
        await using var harness = await StartAsync();
        var response = await harness.Client.GetAsync("/api/health", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var providers = health.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("capability").GetString()!, p => p.GetProperty("mode").GetString());
        Assert.Equal("emulator", providers["telephony"]);
        Assert.Equal("emulator", providers["llm"]);
        Assert.Equal("emulator", providers["speech-to-text"]);
        Assert.Equal("emulator", providers["text-to-speech"]);
        Assert.True(health.GetProperty("uptime_seconds").GetInt64() >= 0);
    }

    [Fact]
    public async Task Health_ProviderUnreachable_Is503()
    {
        await using var harness = await StartAsync(new() { ["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9" });
        var response = await harness.Client.GetAsync("/api/health", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Health_StoreUnreachable_Is503()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"telnyx-ai-test-{Guid.NewGuid():N}");
        await using var harness = await StartAsync(new() { ["DATABASE_URL"] = $"sqlite:{Path.Combine(directory, "calls.db")}" });
        var before = await harness.Client.GetFromJsonAsync<JsonElement>("/api/health", Ct);
        Assert.True(before.GetProperty("store").GetProperty("reachable").GetBoolean());
        Assert.Equal("sqlite", before.GetProperty("store").GetProperty("provider").GetString());

        Directory.Delete(directory, recursive: true);
        SqliteConnection.ClearAllPools();

        await Wait.UntilAsync(async () => (await harness.Client.GetAsync("/api/health", Ct)).StatusCode == HttpStatusCode.ServiceUnavailable, "health to see the store gone");
        var health = await (await harness.Client.GetAsync("/api/health", Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.False(health.GetProperty("store").GetProperty("reachable").GetBoolean());
    }

    /// <summary>
    /// The HTTP JSON options resolve only source-generated metadata, as a Native AOT build does: a response type missing
    /// from a context fails here (and in every endpoint test) rather than only in the native binary.
    /// </summary>
    [Fact]
    public async Task HttpJson_SourceGeneratedOnly_NoReflectionFallback()
    {
        await using var harness = await StartAsync();
        var options = harness.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        Assert.All(options.TypeInfoResolverChain, r => Assert.IsAssignableFrom<JsonSerializerContext>(r));
        Assert.Contains(CallsJson.Default, options.TypeInfoResolverChain);
        Assert.Throws<NotSupportedException>(object? () => options.GetTypeInfo(new { Status = "ok" }.GetType()));

        var missing = await harness.Client.GetAsync("/api/call/batch/no-such-batch", Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var problem = await missing.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("traceId", out _));
    }

    private static Task<ServiceHarness> StartAsync(Dictionary<string, string>? settings = null) =>
        ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false, Settings = settings ?? [] }, Ct);
}
