using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;

namespace TelnyxAiService.Tests.Health;

public sealed class HealthTests
{
    [Fact]
    public async Task Health_WithSettings_Returns200()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("TELNYX_API_KEY", "KEY");
            b.UseSetting("TELNYX_CONNECTION_ID", "conn");
            b.UseSetting("TELNYX_PHONE_NUMBER", "+15550001111");
            b.UseSetting("WEBHOOK_BASE_URL", "https://example.test");
        });
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/api/health", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
