using System.Net;
using System.Text;
using System.Text.Json;
using TelnyxAiService.Emulators.Anthropic;

namespace TelnyxAiService.Tests.Emulators.Anthropic;

public sealed class AnthropicEmulatorTests
{
    private static readonly string FixtureFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "anthropic");

    [Fact]
    public async Task Emulator_StreamedText_MatchesBasicFixture()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueReply(new ScriptedReply("Hello there!"));

        var (response, events) = await StreamAsync(emulator, ValidBody(stream: true));

        var fixture = ParseSse(await File.ReadAllTextAsync(Path.Combine(FixtureFolder, "basic_response.sse.txt"), Ct));
        Assert.Equal(fixture.Select(e => e.Name), events.Select(e => e.Name));
        for (var i = 0; i < fixture.Count; i++)
        {
            Assert.Equal(fixture[i].Name, events[i].Data.GetProperty("type").GetString());
            Assert.Subset(KeyPaths(events[i].Data), KeyPaths(fixture[i].Data));
        }

        Assert.Equal(["Hello", " there", "!"], events.Where(e => e.Name == "content_block_delta").Select(e => e.Data.GetProperty("delta").GetProperty("text").GetString()));
        Assert.Equal("text/event-stream; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.StartsWith("req_", response.Headers.GetValues("request-id").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Emulator_ToolUseReply_MatchesToolUseFixture()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueReply(new ScriptedReply("I'll check the current weather in Paris for you.", "get_weather", """{"location": "Paris"}"""));

        var (_, events) = await StreamAsync(emulator, ValidBody(stream: true));

        var fixture = ParseSse(await File.ReadAllTextAsync(Path.Combine(FixtureFolder, "tool_use_response.sse.txt"), Ct));
        Assert.Equal(Collapse(fixture.Select(Signature)), Collapse(events.Select(Signature)));

        var text = string.Concat(events.Where(e => e.Name == "content_block_delta" && e.Data.GetProperty("index").GetInt32() == 0).Select(e => e.Data.GetProperty("delta").GetProperty("text").GetString()));
        Assert.Equal("I'll check the current weather in Paris for you.", text);
        var json = events.Where(e => e.Name == "content_block_delta" && e.Data.GetProperty("index").GetInt32() == 1).Select(e => e.Data.GetProperty("delta").GetProperty("partial_json").GetString()).ToList();
        Assert.Equal("", json[0]);
        Assert.Equal("Paris", JsonDocument.Parse(string.Concat(json)).RootElement.GetProperty("location").GetString());
        var delta = events.Single(e => e.Name == "message_delta").Data;
        Assert.Equal("tool_use", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.True(delta.GetProperty("usage").GetProperty("output_tokens").GetInt32() > 1);
    }

    [Fact]
    public async Task Emulator_MidStreamError_EndsWithFixtureErrorEvent()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueFault(new AnthropicFault.MidStreamError(AfterTokens: 2));
        emulator.EnqueueReply(new ScriptedReply("One two three four."));

        var (response, events) = await StreamAsync(emulator, ValidBody(stream: true));

        var fixture = ParseSse(await File.ReadAllTextAsync(Path.Combine(FixtureFolder, "error_event_overloaded.sse.txt"), Ct)).Single();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "error"], events.Select(e => e.Name));
        Assert.Equal(fixture.Name, events[^1].Name);
        Assert.Equal(fixture.Data.GetRawText().Replace(" ", ""), events[^1].Data.GetRawText());
    }

    [Fact]
    public async Task Emulator_Http429Fault_MatchesRecordedResponse()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueFault(new AnthropicFault.Http429(RetryAfterSeconds: 3));

        var response = await PostAsync(emulator, ValidBody(stream: true), auth: "x-api-key");

        using var recorded = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(FixtureFolder, "http_429_rate_limit.recorded.json"), Ct));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("x-should-retry").Single());
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter!.Delta);
        Assert.Equal(KeyPaths(recorded.RootElement.GetProperty("body")), KeyPaths(body));
        var recordedError = recorded.RootElement.GetProperty("body").GetProperty("error");
        Assert.Equal(recordedError.GetProperty("type").GetString(), body.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(recordedError.GetProperty("message").GetString(), body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(body.GetProperty("request_id").GetString(), response.Headers.GetValues("request-id").Single());
    }

    [Fact]
    public async Task Emulator_Http529Fault_ReturnsOverloadedError()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueFault(new AnthropicFault.Http529());

        var response = await PostAsync(emulator, ValidBody(stream: true), auth: "bearer");
        var second = await PostAsync(emulator, ValidBody(stream: false), auth: "bearer");

        Assert.Equal(529, (int)response.StatusCode);
        Assert.Equal("overloaded_error", ErrorType(await response.Content.ReadAsStringAsync(Ct)));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    [Theory]
    [InlineData("x-api-key")]
    [InlineData("bearer")]
    public async Task Emulator_NonStreaming_ReturnsMessageForEitherAuthStyle(string auth)
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueReply(new ScriptedReply("Goodbye!", "end_call"));

        var response = await PostAsync(emulator, ValidBody(stream: false), auth);

        var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal("claude-haiku-4-5", message.GetProperty("model").GetString());
        Assert.Equal("tool_use", message.GetProperty("stop_reason").GetString());
        Assert.Equal("Goodbye!", message.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("end_call", message.GetProperty("content")[1].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Emulator_WrongKey_Returns401AuthenticationError()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(emulator.BaseUrl, "/v1/messages")) { Content = new StringContent(ValidBody(stream: true), Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", "wrong");
        request.Headers.Add("anthropic-version", "2023-06-01");
        var response = await http.SendAsync(request, Ct);

        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("authentication_error", ErrorType(body));
        Assert.StartsWith("req_", JsonDocument.Parse(body).RootElement.GetProperty("request_id").GetString(), StringComparison.Ordinal);
        Assert.Single(emulator.Requests);
    }

    [Theory]
    [InlineData("""{"model":"claude-haiku-4-5","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"model":"claude-haiku-4-5","max_tokens":10,"messages":[]}""")]
    [InlineData("""{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"assistant","content":"hi"}]}""")]
    [InlineData("""{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}""")]
    [InlineData("""{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":5}]}""")]
    [InlineData("""{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("not json")]
    public async Task Emulator_InvalidRequest_Returns400InvalidRequestError(string body)
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);

        var response = await PostAsync(emulator, body, auth: "x-api-key");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", ErrorType(await response.Content.ReadAsStringAsync(Ct)));
    }

    [Fact]
    public async Task Emulator_BlockContent_IsAcceptedAndRecorded()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        const string body = """{"model":"m","max_tokens":5,"system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]},{"role":"assistant","content":"Hello"},{"role":"user","content":"Bye"}]}""";

        var response = await PostAsync(emulator, body, auth: "bearer");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var recorded = Assert.Single(emulator.Requests);
        Assert.Equal("Be brief.", recorded.System);
        Assert.Equal([("user", "Hi"), ("assistant", "Hello"), ("user", "Bye")], recorded.Messages);
        Assert.Equal("2023-06-01", recorded.Header("Anthropic-Version"));
    }

    [Fact]
    public void Tokenize_AnyText_ConcatenatesBackToTheText()
    {
        const string text = "Hola, ¿qué tal?  I'll call at 3pm.\n";
        var tokens = AnthropicEmulator.Tokenize(text);
        Assert.Equal(text, string.Concat(tokens));
        Assert.True(tokens.Count > 8);
    }

    internal static List<(string Name, JsonElement Data)> ParseSse(string text) =>
        [.. text.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(block => block.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Where(lines => lines.Length > 0)
            .Select(lines => (
                lines.Single(l => l.StartsWith("event:", StringComparison.Ordinal))["event:".Length..].Trim(),
                JsonDocument.Parse(lines.Single(l => l.StartsWith("data:", StringComparison.Ordinal))["data:".Length..]).RootElement))];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string ValidBody(bool stream) =>
        $$"""{"model":"claude-haiku-4-5","max_tokens":100,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Hi"}]}""";

    private static async Task<(HttpResponseMessage Response, List<(string Name, JsonElement Data)> Events)> StreamAsync(AnthropicEmulator emulator, string body)
    {
        var response = await PostAsync(emulator, body, auth: "x-api-key");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response, ParseSse(await response.Content.ReadAsStringAsync(Ct)));
    }

    private static async Task<HttpResponseMessage> PostAsync(AnthropicEmulator emulator, string body, string auth)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(emulator.BaseUrl, "/v1/messages")) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("anthropic-version", "2023-06-01");
        if (auth == "bearer")
        {
            request.Headers.Add("Authorization", $"Bearer {emulator.ApiKey}");
        }
        else
        {
            request.Headers.Add("x-api-key", emulator.ApiKey);
        }

        var response = await http.SendAsync(request, Ct);
        await response.Content.LoadIntoBufferAsync(Ct);
        return response;
    }

    private static string? ErrorType(string body)
    {
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal("error", root.GetProperty("type").GetString());
        return root.GetProperty("error").GetProperty("type").GetString();
    }

    /// <summary>Every property path in the JSON ("message.usage.input_tokens"); array items share one path.</summary>
    private static HashSet<string> KeyPaths(JsonElement element, string prefix = "")
    {
        var paths = new HashSet<string>();
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                var path = prefix + property.Name;
                paths.Add(path);
                paths.UnionWith(KeyPaths(property.Value, path + "."));
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                paths.UnionWith(KeyPaths(item, prefix + "[]."));
            }
        }

        return paths;
    }

    /// <summary>The event name and its JSON key paths: equal signatures mean the same shape.</summary>
    private static string Signature((string Name, JsonElement Data) sseEvent) =>
        $"{sseEvent.Name} {string.Join(",", KeyPaths(sseEvent.Data).Order(StringComparer.Ordinal))}";

    /// <summary>Runs of the same event (token deltas) count once: the fixture's text was split differently.</summary>
    private static List<string> Collapse(IEnumerable<string> names)
    {
        var collapsed = new List<string>();
        foreach (var name in names)
        {
            if (collapsed.Count == 0 || collapsed[^1] != name)
            {
                collapsed.Add(name);
            }
        }

        return collapsed;
    }
}
