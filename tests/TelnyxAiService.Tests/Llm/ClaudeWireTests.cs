using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using TelnyxAiService.Llm;
using TelnyxAiService.Llm.Claude;
using TelnyxAiService.Providers;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Llm;

/// <summary>The Claude client against responses recorded from the Messages API (Fixtures/anthropic), replayed in process.</summary>
public sealed class ClaudeWireTests
{
    private static readonly CallBrief Brief = new("Maria Lopez", "Confirming her dentist appointment on Friday at 10.", "Spanish", "You are Ana, a friendly receptionist.");

    private static readonly AgentRequest Hello = new(Brief, [new ChatMessage(Speaker.Caller, "Hello?")]);

    private static readonly ClaudeOptions Options = new("sk-ant-test", new Uri("https://api.anthropic.com"), "claude-haiku-4-5", 300, null, TimeSpan.FromSeconds(4));

    [Fact]
    public async Task BasicResponse_YieldsEachTextDeltaAsItCame()
    {
        var handler = new ReplayHandler(() => Sse(Fixture("basic_response.sse.txt")));
        using var agent = Agent(handler);

        var outputs = await CollectAsync(agent);

        Assert.Equal([new TextDelta("Hello"), new TextDelta(" there"), new TextDelta("!")], outputs);
        Assert.True(handler.AllDisposed);
    }

    [Fact]
    public async Task ToolUseResponse_UnknownToolIsIgnored()
    {
        using var agent = Agent(new ReplayHandler(() => Sse(Fixture("tool_use_response.sse.txt"))));

        var outputs = await CollectAsync(agent);

        Assert.Equal([new TextDelta("I"), new TextDelta("'ll check the current weather in Paris for you.")], outputs);
    }

    [Theory]
    [InlineData(ClaudePrompt.EndCallTool, typeof(EndCallRequested))]
    [InlineData(ClaudePrompt.TransferTool, typeof(TransferRequested))]
    public async Task ToolUseResponse_OurTool_YieldsItsRequestAfterTheText(string tool, Type expected)
    {
        using var agent = Agent(new ReplayHandler(() => Sse(Fixture("tool_use_response.sse.txt").Replace("get_weather", tool, StringComparison.Ordinal))));

        var outputs = await CollectAsync(agent);

        Assert.Equal(3, outputs.Count);
        Assert.Equal("I'll check the current weather in Paris for you.", Text(outputs));
        Assert.IsType(expected, outputs[^1]);
    }

    [Fact]
    public async Task RefusalResponse_IsAnEmptyReply()
    {
        var handler = new ReplayHandler(() => Sse(Fixture("refusal_response.sse.txt")));
        using var agent = Agent(handler);

        Assert.Empty(await CollectAsync(agent));
        Assert.Single(handler.Sent);
    }

    [Fact]
    public async Task ErrorEventFirst_IsRetriedWithDoublingBackoffThenFails()
    {
        var handler = new ReplayHandler(Repeat(3, () => Sse(Fixture("error_event_overloaded.sse.txt"))));
        var clock = new WatchedClock(unwatched: Options.FirstTokenTimeout);
        using var agent = Agent(handler, clock);

        var replying = CollectAsync(agent);

        Assert.Equal(TimeSpan.FromMilliseconds(200), await clock.AdvanceToNextDelayAsync());
        Assert.Equal(TimeSpan.FromMilliseconds(400), await clock.AdvanceToNextDelayAsync());
        var error = await Assert.ThrowsAsync<ProviderException>(() => replying);
        Assert.Equal("anthropic: stream error overloaded_error (attempt 3)", error.Message);
        Assert.True(error.Retryable);
        Assert.Equal(3, handler.Sent.Count);
        Assert.True(handler.AllDisposed);
    }

    [Fact]
    public async Task ErrorEventAfterText_FailsAfterThePartSaid()
    {
        var basic = Fixture("basic_response.sse.txt");
        var broken = basic[..basic.IndexOf("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" there\"}}", StringComparison.Ordinal)]
            + Fixture("error_event_overloaded.sse.txt");
        var handler = new ReplayHandler(() => Sse(broken));
        using var agent = Agent(handler);

        var received = new List<AgentOutput>();
        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var output in agent.ReplyAsync(Hello, Ct))
            {
                received.Add(output);
            }
        });

        Assert.Equal([new TextDelta("Hello")], received);
        Assert.Equal("anthropic: stream error overloaded_error (attempt 1, after part of the reply)", error.Message);
        Assert.True(error.Retryable);
        Assert.Single(handler.Sent);
        Assert.True(handler.AllDisposed);
    }

    [Fact]
    public async Task RecordedRateLimit_IsRetriedAfterTheBackoffThenStreams()
    {
        var handler = new ReplayHandler(Recorded429, () => Sse(Fixture("basic_response.sse.txt")));
        var clock = new WatchedClock(unwatched: Options.FirstTokenTimeout);
        using var agent = Agent(handler, clock);

        var replying = CollectAsync(agent);

        Assert.Equal(TimeSpan.FromMilliseconds(200), await clock.AdvanceToNextDelayAsync());
        Assert.Equal("Hello there!", Text(await replying));
        Assert.Equal(2, handler.Sent.Count);
        Assert.True(handler.AllDisposed);
    }

    [Fact]
    public async Task RecordedRateLimit_Throughout_NamesStatusAndErrorType()
    {
        var handler = new ReplayHandler(Repeat(3, Recorded429));
        using var agent = Agent(handler);

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(agent));

        Assert.Equal("anthropic: HTTP 429 rate_limit_error (attempt 3)", error.Message);
        Assert.True(error.Retryable);
        Assert.Equal(3, handler.Sent.Count);
    }

    [Fact]
    public async Task Overloaded_WithRetryAfterMs_WaitsThatLong()
    {
        var handler = new ReplayHandler(
            () => Overloaded(("retry-after-ms", "750")),
            () => Sse(Fixture("basic_response.sse.txt")));
        var clock = new WatchedClock(unwatched: Options.FirstTokenTimeout);
        using var agent = Agent(handler, clock);

        var replying = CollectAsync(agent);

        Assert.Equal(TimeSpan.FromMilliseconds(750), await clock.AdvanceToNextDelayAsync());
        Assert.Equal("Hello there!", Text(await replying));
    }

    [Fact]
    public async Task Overloaded_ShouldRetryFalse_IsNotRetried()
    {
        var handler = new ReplayHandler(() => Overloaded(("x-should-retry", "false")));
        using var agent = Agent(handler);

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(agent));

        Assert.Equal("anthropic: HTTP 529 overloaded_error (attempt 1)", error.Message);
        Assert.False(error.Retryable);
        Assert.True(handler.AllDisposed);
    }

    [Theory]
    [InlineData("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}""")]
    [InlineData("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":null}}""")]
    [InlineData("""{"type":"content_block_delta","index":"zero","delta":{"type":"text_delta","text":"Hi"}}""")]
    [InlineData("""{"type":"content_block_delta",""")]
    public async Task MalformedEvent_FailsWithoutRetrying(string data)
    {
        var handler = new ReplayHandler(Repeat(3, () => Sse($"event: content_block_delta\ndata: {data}\n\n")));
        using var agent = Agent(handler);

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(agent));

        Assert.Equal("anthropic: unexpected response (JsonException) (attempt 1)", error.Message);
        Assert.False(error.Retryable);
        Assert.Single(handler.Sent);
    }

    [Fact]
    public async Task NotAnEventStream_FailsWithoutRetrying()
    {
        var handler = new ReplayHandler(() => new HttpResponseMessage(HttpStatusCode.OK) { Content = new TrackedContent("<html>hello</html>", "text/html") });
        using var agent = Agent(handler);

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(agent));

        Assert.Equal("anthropic: unexpected response (content type text/html) (attempt 1)", error.Message);
        Assert.False(error.Retryable);
        Assert.True(handler.AllDisposed);
    }

    [Fact]
    public async Task UnknownEventsBlocksAndDeltas_AreIgnored()
    {
        var stream = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-x","usage":{"input_tokens":1,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me see."}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: brand_new_event
            data: not even JSON

            event: content_block_start
            data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":"","citations":[]}}

            event: content_block_delta
            data: {"delta":{"text":"Hola","type":"text_delta"},"index":1,
            data: "type":"content_block_delta"}

            event: content_block_stop
            data: {"type":"content_block_stop","index":1}

            event: message_stop
            data: {"type":"message_stop"              }

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"after the end"}}


            """;
        using var agent = Agent(new ReplayHandler(() => Sse(stream.ReplaceLineEndings("\n"))));

        Assert.Equal([new TextDelta("Hola")], await CollectAsync(agent));
    }

    [Fact]
    public async Task Request_IsTheDocumentedShape()
    {
        var handler = new ReplayHandler(() => Sse(Fixture("basic_response.sse.txt")));
        var options = Options with { BaseUrl = new Uri("https://llm-proxy.example/anthropic/"), TransferNumber = "+15550002222" };
        using var agent = new ClaudeAgent(options, TestTelemetry.Instance, TimeProvider.System, NullLogger<ClaudeAgent>.Instance, handler);
        var request = new AgentRequest(Brief, [new ChatMessage(Speaker.Agent, "Hola, soy Ana."), new ChatMessage(Speaker.Caller, "Hola.")]);

        await foreach (var _ in agent.ReplyAsync(request, Ct))
        {
        }

        var sent = Assert.Single(handler.Sent);
        Assert.Equal(HttpMethod.Post, sent.Method);
        Assert.Equal(new Uri("https://llm-proxy.example/anthropic/v1/messages"), sent.Uri);
        Assert.Equal("sk-ant-test", sent.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", sent.Headers["anthropic-version"]);
        Assert.Equal("application/json", sent.Headers["content-type"]);
        Assert.False(sent.Headers.ContainsKey("authorization"));
        var expected = JsonSerializer.Serialize(new
        {
            model = "claude-haiku-4-5",
            max_tokens = 300,
            system = ClaudePrompt.System(Brief),
            messages = new[]
            {
                new { role = "user", content = ClaudePrompt.CallConnects },
                new { role = "assistant", content = "Hola, soy Ana." },
                new { role = "user", content = "Hola." },
            },
            tools = new[]
            {
                new { name = "end_call", description = "Hang up the call. Say goodbye first, in the same reply, then call this tool.", input_schema = new { type = "object", properties = new { } } },
                new { name = "transfer_to_human", description = "Transfer the caller to a human colleague when they ask for a person or you cannot help. Tell them you are transferring them first, then call this tool.", input_schema = new { type = "object", properties = new { } } },
            },
            stream = true,
        });
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(sent.Body).RootElement), sent.Body);
    }

    [Fact]
    public async Task StreamStallsAfterTheFirstText_GivenUpAtTheReplyLimitWithoutRetry()
    {
        const string FirstText = """
            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}


            """;
        var stalled = new Pipe();
        await stalled.Writer.WriteAsync(Encoding.UTF8.GetBytes(FirstText), Ct);
        var handler = new ReplayHandler(() => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(stalled.Reader.AsStream()) { Headers = { ContentType = new MediaTypeHeaderValue("text/event-stream") } },
        });
        var clock = new WatchedClock(unwatched: Options.FirstTokenTimeout);
        using var agent = Agent(handler, clock);
        var outputs = new List<AgentOutput>();

        var replying = Task.Run(async () =>
        {
            await foreach (var output in agent.ReplyAsync(Hello, Ct))
            {
                outputs.Add(output);
            }
        }, Ct);

        Assert.Equal(ClaudeAgent.ReplyLimit, await clock.AdvanceToNextDelayAsync());
        var error = await Assert.ThrowsAsync<ProviderException>(() => replying);
        Assert.Equal("anthropic: no end of the reply within 30 s (attempt 1, after part of the reply)", error.Message);
        Assert.Equal([new TextDelta("Hello")], outputs);
        Assert.Single(handler.Sent);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ClaudeAgent Agent(ReplayHandler handler, TimeProvider? time = null) =>
        new(Options, TestTelemetry.Instance, time ?? TimeProvider.System, NullLogger<ClaudeAgent>.Instance, handler);

    private static async Task<List<AgentOutput>> CollectAsync(ClaudeAgent agent)
    {
        var outputs = new List<AgentOutput>();
        await foreach (var output in agent.ReplyAsync(Hello, Ct))
        {
            outputs.Add(output);
        }

        return outputs;
    }

    private static string Text(IEnumerable<AgentOutput> outputs) => string.Concat(outputs.OfType<TextDelta>().Select(d => d.Text));

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "anthropic", name));

    private static Func<HttpResponseMessage>[] Repeat(int count, Func<HttpResponseMessage> response) => [.. Enumerable.Repeat(response, count)];

    private static HttpResponseMessage Sse(string body) =>
        new(HttpStatusCode.OK) { Content = new TrackedContent(body, "text/event-stream; charset=utf-8") };

    /// <summary>The recorded 429 exchange: its status, headers and body.</summary>
    private static HttpResponseMessage Recorded429()
    {
        using var recorded = JsonDocument.Parse(Fixture("http_429_rate_limit.recorded.json"));
        var root = recorded.RootElement;
        var response = new HttpResponseMessage((HttpStatusCode)root.GetProperty("status_code").GetInt32())
        {
            Content = new TrackedContent(root.GetProperty("body").GetRawText(), "application/json"),
        };
        foreach (var header in root.GetProperty("headers").EnumerateObject().Where(h => !h.Name.StartsWith("content-", StringComparison.Ordinal)))
        {
            response.Headers.TryAddWithoutValidation(header.Name, header.Value.GetString());
        }

        return response;
    }

    private static HttpResponseMessage Overloaded(params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage((HttpStatusCode)529) { Content = new TrackedContent(Fixture("http_529_overloaded.constructed.json"), "application/json") };
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    private sealed record SentRequest(HttpMethod Method, Uri? Uri, Dictionary<string, string> Headers, string Body);

    /// <summary>Answers each request with the next response in order, and keeps what was sent and what it answered.</summary>
    private sealed class ReplayHandler(params Func<HttpResponseMessage>[] responses) : HttpMessageHandler
    {
        private readonly List<HttpResponseMessage> _answered = [];

        public List<SentRequest> Sent { get; } = [];

        /// <summary>Every response the agent received has been disposed.</summary>
        public bool AllDisposed => _answered.All(r => ((TrackedContent)r.Content).Disposed);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var headers = request.Headers.Concat(request.Content!.Headers).ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value));
            Sent.Add(new SentRequest(request.Method, request.RequestUri, headers, await request.Content.ReadAsStringAsync(cancellationToken)));
            var response = responses[Sent.Count - 1]();
            _answered.Add(response);
            return response;
        }
    }

    /// <summary>A response body that remembers being disposed.</summary>
    private sealed class TrackedContent : ByteArrayContent
    {
        public TrackedContent(string body, string contentType)
            : base(Encoding.UTF8.GetBytes(body)) => Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
