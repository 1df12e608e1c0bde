using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.MediaStreamRobustnessTests;

namespace TelnyxAiService.Tests.BrowserCalls;

/// <summary>Talking to the agent from a browser: the call over <c>/stream/browser</c>, stored like any other.</summary>
public sealed class BrowserCallTests
{
    private const string Greeting = "Hello, thanks for calling the clinic.";
    private const string Line = "I would like to book a cleaning for Monday";
    private const string Answer = "Monday at ten works.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Call_GreetingThenAnswer_HungUpAndStoredAsBrowserCall()
    {
        await using var harness = await StartAsync(Line);
        var (callId, streamUrl) = await BrowserCaller.CreateAsync(harness, Ct);
        await using var caller = await BrowserCaller.ConnectAsync(streamUrl, Ct);

        await caller.WaitForAgentToFinishAsync(TimeSpan.Zero);
        var start = caller.Texts.First();
        Assert.Equal("start", start.GetProperty("event").GetString());
        Assert.Equal(callId, start.GetProperty("call_id").GetString());
        Assert.Equal(16000, start.GetProperty("sample_rate").GetInt32());
        Assert.Equal("pcm_s16le", start.GetProperty("encoding").GetString());
        Assert.All(caller.Audio, a => Assert.Equal(BrowserCaller.FrameBytes, a.Bytes));
        var greetingFrames = caller.Audio.Count;
        Assert.InRange(greetingFrames * 20, 2000, 4000);
        Assert.True(caller.Events("mark") >= 1);

        // Frames the page should never send: none of them ends the call.
        await caller.SendTextAsync("not JSON {");
        await caller.SendTextAsync("""{"event":"no_such_event"}""");
        await caller.SendTextAsync("""{"event":"mark"}""");
        await caller.SendBinaryAsync([1, 2, 3]);

        var spoke = caller.Now;
        await caller.SayAsync(Line);
        await caller.WaitForAgentToFinishAsync(spoke);
        Assert.True(caller.Audio.Count > greetingFrames);
        Assert.Equal(Line, harness.Anthropic.Requests[^1].Messages[^1].Text);

        await caller.SendTextAsync("""{"event":"hangup"}""");
        await caller.Closed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, caller.Socket.CloseStatus);

        var detail = await StoredWhenEndedAsync(harness, callId);
        var call = detail.GetProperty("call");
        Assert.Equal("browser", call.GetProperty("direction").GetString());
        Assert.Equal("browser", call.GetProperty("phone").GetString());
        Assert.Equal("completed", call.GetProperty("status").GetString());
        Assert.Equal("remote_hangup", call.GetProperty("end_reason").GetString());
        var transcript = detail.GetProperty("transcript").EnumerateArray().Select(t => (t.GetProperty("speaker").GetString(), t.GetProperty("text").GetString())).ToList();
        Assert.Equal([("agent", Greeting), ("caller", Line), ("agent", Answer)], transcript);
    }

    [Fact]
    public async Task Call_CallerTalksOverTheAgent_ClearSent()
    {
        await using var harness = await StartAsync("Sorry, can I ask something first", greeting: "Hello, thanks for calling the clinic. We are open every weekday from nine to six, and on Saturdays from ten.");
        var (_, streamUrl) = await BrowserCaller.CreateAsync(harness, Ct);
        await using var caller = await BrowserCaller.ConnectAsync(streamUrl, Ct);
        await Wait.UntilAsync(() => caller.Audio.Count > 25, "the greeting to be playing");

        await caller.SayAsync("Sorry, can I ask something first");

        await Wait.UntilAsync(() => caller.Events("clear") == 1, "the agent to be cut");
    }

    [Fact]
    public async Task Stream_BadTokenSecondConnectionOrPlainRequest_Refused()
    {
        await using var harness = await StartAsync(Line);
        var (_, streamUrl) = await BrowserCaller.CreateAsync(harness, Ct);
        var endpoint = streamUrl.GetLeftPart(UriPartial.Path);

        Assert.Equal(HttpStatusCode.Unauthorized, await HandshakeStatusAsync(new Uri(endpoint + "?token=wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, await HandshakeStatusAsync(new Uri(endpoint)));
        Assert.Equal(HttpStatusCode.BadRequest, (await harness.Client.GetAsync(new Uri(harness.BaseUrl, streamUrl.PathAndQuery), Ct)).StatusCode);
        await using var caller = await BrowserCaller.ConnectAsync(streamUrl, Ct);
        Assert.Equal(HttpStatusCode.Conflict, await HandshakeStatusAsync(streamUrl));
        Assert.Equal(WebSocketState.Open, caller.Socket.State);
    }

    [Fact]
    public async Task Create_FromAnotherMachineWithoutTheKey_Is401AndStartsNothing()
    {
        await using var harness = await StartAsync(Line, apiKey: "s3cret");
        await using var remote = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            foreach (var (key, value) in harness.Settings)
            {
                builder.UseSetting(key, value);
            }
        });

        var refused = await remote.Server.SendAsync(http =>
        {
            http.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.7");
            http.Request.Method = "POST";
            http.Request.Path = "/api/browser/calls";
        }, Ct);

        Assert.Equal(StatusCodes.Status401Unauthorized, refused.Response.StatusCode);
        var calls = await remote.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/calls") { Headers = { { "Authorization", "Bearer s3cret" } } }, Ct);
        Assert.Empty((await calls.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("calls").EnumerateArray());
    }

    [Fact]
    public async Task Create_AllLiveCallSlotsTaken_Is429WithRetryAfter()
    {
        await using var harness = await StartAsync(Line, maxCalls: 1);
        await BrowserCaller.CreateAsync(harness, Ct);

        var response = await harness.Client.PostAsync("/api/browser/calls", null, Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    private static Task<ServiceHarness> StartAsync(string line, string greeting = Greeting, string? apiKey = null, int maxCalls = 10)
    {
        var settings = new Dictionary<string, string> { ["INBOUND_GREETING"] = greeting, ["MAX_CONCURRENT_CALLS"] = maxCalls.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (apiKey is not null)
        {
            settings["API_KEY"] = apiKey;
        }

        return ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(Answer) },
                Deepgram = new DeepgramEmulatorOptions { Segments = [line] },
                Settings = settings,
            },
            Ct);
    }

    private static async Task<JsonElement> StoredWhenEndedAsync(ServiceHarness harness, string callId)
    {
        JsonElement detail = default;
        await Wait.UntilAsync(
            async () =>
            {
                detail = await harness.Client.GetFromJsonAsync<JsonElement>($"/api/calls/{callId}", Ct);
                return detail.GetProperty("call").TryGetProperty("ended_at", out var ended) && ended.ValueKind == JsonValueKind.String;
            },
            "the call's end to be stored");
        return detail;
    }
}
