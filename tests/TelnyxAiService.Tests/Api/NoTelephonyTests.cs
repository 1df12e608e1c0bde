using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Providers;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Tests.Api;

/// <summary>Without TELNYX_API_KEY the service still serves (console, browser calls); phone calls say what to set.</summary>
public sealed class NoTelephonyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/api/call/initiate", """{"telefono":"+34600111222"}""")]
    [InlineData("/api/call/batch", """{"calls":[{"telefono":"+34600111222"}]}""")]
    [InlineData("/webhook/telnyx", """{"data":{}}""")]
    public async Task NoTelnyxKey_PhoneEndpoints_Are503NamingTheSettings(string path, string body)
    {
        await using var factory = App();
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "secret-key");

        var response = await client.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Telephony is not configured", problem.GetProperty("title").GetString());
        Assert.Contains("TELNYX_API_KEY", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var stored = await factory.Services.GetRequiredService<ICallStore>().ListCallsAsync(new CallQuery(), Ct);
        Assert.Empty(stored.Calls);
    }

    [Fact]
    public async Task NoTelnyxKey_HealthSaysTelephonyIsOff_AndIsOk()
    {
        await using var factory = App();
        using var client = factory.CreateClient();

        var health = await client.GetFromJsonAsync<JsonElement>("/api/health", Ct);

        Assert.Equal("ok", health.GetProperty("status").GetString());
        var telephony = health.GetProperty("providers").EnumerateArray().Single(p => p.GetProperty("capability").GetString() == "telephony");
        Assert.Equal("off", telephony.GetProperty("mode").GetString());
        Assert.Equal(ProviderMode.Off, factory.Services.GetServices<ProviderInfo>().Single(p => p.Capability == "telephony").Mode);
    }

    private static WebApplicationFactory<Program> App()
    {
        var database = Path.Combine(Path.GetTempPath(), $"no-telephony-{Guid.NewGuid():N}.db");
        return new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("DATABASE_URL", $"sqlite:{database}");
            b.UseSetting("API_KEY", "secret-key");
        });
    }
}
