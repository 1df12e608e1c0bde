using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Api;

/// <summary>The API cannot run up the owner's bill: a cap on live calls, on queued numbers, and on where it dials.</summary>
public sealed class SpendGuardTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Callees that ring for a minute, so every dialled call stays live for the test.</summary>
    private static readonly TelnyxEmulatorOptions Ringing = new() { Callee = new CalleeScript { AnswerAfter = TimeSpan.FromMinutes(1) } };

    [Fact]
    public async Task Initiate_ParallelBeyondTheCap_OnlyTheCapIsDialled()
    {
        await using var harness = await StartAsync(new() { ["MAX_CONCURRENT_CALLS"] = "3" });
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = $"+3460011{i:D4}" }, Ct)));
        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(17, refused.Count);
        Assert.All(refused, r => Assert.NotNull(r.Headers.RetryAfter));
        var problem = await refused[0].Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("MAX_CONCURRENT_CALLS", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(3, harness.Telnyx.Commands.Count(c => c.Action == "dial"));
    }

    [Fact]
    public async Task Initiate_AfterACallEnds_ItsSlotIsFreeAgain()
    {
        var busySoon = new TelnyxEmulatorOptions { Callee = Ringing.Callee, Callees = new Dictionary<string, CalleeScript> { ["+34600111222"] = new() { Outcome = CalleeOutcome.Busy, AnswerAfter = TimeSpan.FromMilliseconds(300) } } };
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false, Telnyx = busySoon, Settings = new() { ["MAX_CONCURRENT_CALLS"] = "1" } }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, (await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111222" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111333" }, Ct)).StatusCode);
        await Wait.UntilAsync(
            async () => (await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111333" }, Ct)).StatusCode == HttpStatusCode.Accepted,
            "the busy call's slot to be free again");
        Assert.Equal(2, harness.Telnyx.Commands.Count(c => c.Action == "dial"));
    }

    [Fact]
    public async Task Batch_BeyondTheQueueCap_Is429AndQueuesNothing()
    {
        await using var harness = await StartAsync(new() { ["MAX_QUEUED_CALLS"] = "3" });
        var first = await harness.Client.PostAsJsonAsync("/api/call/batch", new { calls = new[] { new { telefono = "+34600111222" }, new { telefono = "+34600111333" } } }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var second = await harness.Client.PostAsJsonAsync("/api/call/batch", new { calls = new[] { new { telefono = "+34600111444" }, new { telefono = "+34600111555" } } }, Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.NotNull(second.Headers.RetryAfter);
        var problem = await second.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("MAX_QUEUED_CALLS", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "+19005550100")]
    [InlineData("", "+34806123456")]
    [InlineData("+34", "+447700900123")]
    public async Task Initiate_RefusedDestination_Is400NamingTheNumber(string allowed, string phone)
    {
        await using var harness = await StartAsync(new() { ["DIAL_ALLOWED_PREFIXES"] = allowed });
        var response = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = phone }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains(phone, problem.GetProperty("errors").GetProperty("telefono")[0].GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "dial");
    }

    [Fact]
    public async Task Batch_OnePremiumNumber_RejectsTheBatchNamingIt()
    {
        await using var harness = await StartAsync();
        var response = await harness.Client.PostAsJsonAsync("/api/call/batch", new { calls = new[] { new { telefono = "+34600111222" }, new { telefono = "+19005550100" } } }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("+19005550100", problem.GetProperty("errors").GetProperty("calls[1].telefono")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Initiate_DialFails_ProblemCarriesNoUpstreamText()
    {
        await using var harness = await StartAsync(new() { ["TELNYX_API_BASE_URL"] = "http://127.0.0.1:9/v2" });
        var response = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111222" }, Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);
        Assert.Contains("traceId", text, StringComparison.Ordinal);
    }

    private static Task<ServiceHarness> StartAsync(Dictionary<string, string>? settings = null) =>
        ServiceHarness.StartAsync(new HarnessOptions { MediaStreams = false, Telnyx = Ringing, Settings = settings ?? [] }, Ct);
}
