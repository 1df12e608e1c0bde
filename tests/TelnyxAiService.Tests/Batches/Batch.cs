using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace TelnyxAiService.Tests.Batches;

/// <summary>Client-side steps of a batch test: post a batch, follow its progress, read stored calls.</summary>
public static class Batch
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<string> PostAsync(HttpClient client, IEnumerable<string> numbers)
    {
        var response = await client.PostAsJsonAsync("/api/call/batch", new { calls = numbers.Select((n, i) => new { telefono = n, nombre = $"Client {i}" }) }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return body.GetProperty("batch_id").GetString()!;
    }

    public static async Task<JsonElement> ProgressAsync(HttpClient client, string batchId) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/call/batch/{batchId}", Ct);

    /// <summary>Polls the batch until no item is pending or dialling.</summary>
    public static async Task<JsonElement> WaitFinishedAsync(HttpClient client, string batchId, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var progress = await ProgressAsync(client, batchId);
            if (progress.GetProperty("finished").GetBoolean())
            {
                return progress;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The batch did not finish within {timeout.TotalSeconds} s: {progress.GetProperty("counts")}\n{diagnostics?.Invoke()}");
            }

            await Task.Delay(200, Ct);
        }
    }

    public static int Count(JsonElement progress, string status) => progress.GetProperty("counts").GetProperty(status).GetInt32();

    public static IEnumerable<JsonElement> Items(JsonElement progress) => progress.GetProperty("items").EnumerateArray();

    public static async Task<JsonElement> CallAsync(HttpClient client, string callId) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/calls/{callId}", Ct);

    /// <summary>Every stored call of the batch, following next_cursor page by page.</summary>
    public static async Task<List<JsonElement>> ListCallsAsync(HttpClient client, string query)
    {
        var calls = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/api/calls?{query}{(cursor is null ? "" : $"&cursor={cursor}")}", Ct);
            calls.AddRange(page.GetProperty("calls").EnumerateArray());
            cursor = page.TryGetProperty("next_cursor", out var next) ? next.GetString() : null;
        }
        while (cursor is not null);
        return calls;
    }

    /// <summary>A completed call's transcript: greeting, the callee's line, the agent's measured reply.</summary>
    public static void AssertFullTranscript(JsonElement call)
    {
        var turns = call.GetProperty("transcript").EnumerateArray().ToList();
        Assert.Equal(["agent", "caller", "agent"], turns.Select(t => t.GetProperty("speaker").GetString()));
        Assert.Equal(Vendors.CallerLine, turns[1].GetProperty("text").GetString());
        Assert.Equal(Vendors.AgentReply, turns[2].GetProperty("text").GetString());
        Assert.Equal([0, 1, 2], turns.Select(t => t.GetProperty("seq").GetInt32()));
        Assert.True(turns[2].GetProperty("latency").GetProperty("voice_to_voice").GetInt32() >= 0);
    }
}
