using System.Net;
using CsCheck;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Tests.Batches;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Hostile;

/// <summary>
/// The hostile webhooks and API requests sent from outside, to the service running as its own process: no 5xx, the
/// process answers its health check after them, and its resident memory comes back to where it was (within 32 MB).
/// </summary>
public sealed class HostileProcessTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("telnyx-ai-hostile-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task TenThousandHostileInputs_No5xx_MemoryReturns()
    {
        await using var vendors = await Vendors.StartAsync(new Dictionary<string, CalleeScript>(), Ct, HostileWebhookTests.Seed);
        var port = ServiceProcess.FreePort();
        await using var service = await ServiceProcess.StartAsync(port, vendors.SettingsFor(port, $"sqlite:{Path.Combine(directory, "calls.db")}", "solo"), directory, Ct);

        await SendAsync(service.Client, 500, "warm-up");
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        var before = service.ResidentBytes;
        await SendAsync(service.Client, 5000, "0N0XIzNsQ0O2");
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        var after = service.ResidentBytes;

        Assert.Equal(HttpStatusCode.OK, (await service.Client.GetAsync("/api/health", Ct)).StatusCode);
        Assert.DoesNotContain(vendors.Telnyx.Commands, c => c.Action == "dial");
        TestContext.Current.TestOutputHelper?.WriteLine($"RSS before {before >> 20} MB, after 10,000 hostile inputs {after >> 20} MB");
        Assert.InRange(after - before, long.MinValue, 32L << 20);
    }

    /// <summary>Sends <paramref name="each"/> refused webhooks and as many invalid API requests; every answer is a 4xx.</summary>
    private static async Task SendAsync(HttpClient client, int each, string seed)
    {
        await Check.SampleAsync(HostileWebhookTests.Refused, async hostile =>
        {
            var status = await HostileWebhookTests.PostAsync(client, hostile.Body, hostile.Signer, hostile.Skew);
            Assert.True((int)status is >= 400 and < 500, $"{status} for {hostile}");
        }, iter: each, threads: 1, seed: seed == "warm-up" ? null : seed);
        await Check.SampleAsync(HostileApiTests.Requests, async hostile =>
        {
            var status = await HostileApiTests.SendAsync(client, hostile);
            Assert.True((int)status is >= 400 and < 500, $"{status} for {hostile}");
        }, iter: each, threads: 1, seed: seed == "warm-up" ? null : seed);
    }
}
