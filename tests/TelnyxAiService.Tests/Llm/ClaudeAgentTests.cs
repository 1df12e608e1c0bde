using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Llm;
using TelnyxAiService.Llm.Claude;
using TelnyxAiService.Providers;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Llm;

public sealed class ClaudeAgentTests
{
    private static readonly CallBrief Brief = new("Maria Lopez", "Confirming her dentist appointment on Friday at 10.", "Spanish", "You are Ana, a friendly receptionist.");

    private static readonly AgentRequest Hello = new(Brief, [new ChatMessage(Speaker.Caller, "Hello?")]);

    [Fact]
    public async Task Reply_StreamedText_ArrivesAsSeveralDeltasInOrder()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueReply(new ScriptedReply("Hola Maria, soy Ana. ¿Puede confirmar su cita del viernes?"));
        using var agent = Agent(emulator);

        var outputs = await CollectAsync(agent, Hello);

        var deltas = outputs.Cast<TextDelta>().Select(d => d.Text).ToList();
        Assert.True(deltas.Count > 5);
        Assert.Equal("Hola Maria, soy Ana. ¿Puede confirmar su cita del viernes?", string.Concat(deltas));
    }

    [Fact]
    public async Task Reply_Request_CarriesPromptHistoryLimitsAndTools()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        using var agent = Agent(emulator, transferNumber: "+15550002222");
        var request = new AgentRequest(Brief,
        [
            new ChatMessage(Speaker.Agent, "Hola, soy Ana."),
            new ChatMessage(Speaker.Caller, "Hola."),
            new ChatMessage(Speaker.Caller, "¿Quién es?"),
            new ChatMessage(Speaker.Agent, "Llamo de la clínica."),
            new ChatMessage(Speaker.Caller, "Ah, vale."),
        ]);

        await CollectAsync(agent, request);

        var recorded = Assert.Single(emulator.Requests);
        var body = recorded.Body;
        Assert.Equal("claude-haiku-4-5", body.GetProperty("model").GetString());
        Assert.Equal(300, body.GetProperty("max_tokens").GetInt32());
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.Contains("You are Ana, a friendly receptionist.", recorded.System, StringComparison.Ordinal);
        Assert.Contains("Maria Lopez", recorded.System, StringComparison.Ordinal);
        Assert.Contains("dentist appointment on Friday", recorded.System, StringComparison.Ordinal);
        Assert.Contains("Reply in Spanish", recorded.System, StringComparison.Ordinal);
        Assert.Equal(
            [("user", ClaudePrompt.CallConnects), ("assistant", "Hola, soy Ana."), ("user", "Hola. ¿Quién es?"), ("assistant", "Llamo de la clínica."), ("user", "Ah, vale.")],
            recorded.Messages);
        var tools = body.GetProperty("tools").EnumerateArray().ToList();
        Assert.Equal(["end_call", "transfer_to_human"], tools.Select(t => t.GetProperty("name").GetString()));
        Assert.Contains("goodbye", tools[0].GetProperty("description").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("object", tools[0].GetProperty("input_schema").GetProperty("type").GetString());
        Assert.Equal(emulator.ApiKey, recorded.Header("x-api-key"));
        Assert.Equal("2023-06-01", recorded.Header("anthropic-version"));
    }

    [Fact]
    public async Task Reply_LongHistory_SendsTheLastTwentyMessagesStartingWithTheCaller()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        using var agent = Agent(emulator);
        var history = Enumerable.Range(0, 31).Select(i => new ChatMessage(i % 2 == 0 ? Speaker.Caller : Speaker.Agent, $"m{i}")).ToList();

        await CollectAsync(agent, new AgentRequest(Brief, history));

        var messages = Assert.Single(emulator.Requests).Messages;
        Assert.Equal(21, messages.Count);
        Assert.Equal(("user", ClaudePrompt.CallConnects), messages[0]);
        Assert.Equal(("assistant", "m11"), messages[1]);
        Assert.Equal(("user", "m30"), messages[^1]);
        Assert.DoesNotContain(emulator.Requests[0].Body.GetProperty("tools").EnumerateArray(), t => t.GetProperty("name").GetString() == "transfer_to_human");
    }

    [Fact]
    public async Task Reply_OverloadedThenOk_RetriesAndSucceeds()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueFault(new AnthropicFault.Http529());
        emulator.EnqueueReply(new ScriptedReply("Sí, dígame."));
        using var agent = Agent(emulator);

        var outputs = await CollectAsync(agent, Hello);

        Assert.Equal("Sí, dígame.", Text(outputs));
        Assert.Equal(2, emulator.Requests.Count);
    }

    [Fact]
    public async Task Reply_RateLimitedWithRetryAfter_WaitsThatLongThenSucceeds()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueFault(new AnthropicFault.Http429(RetryAfterSeconds: 1));
        var options = Options(emulator);
        var clock = new WatchedClock(unwatched: options.FirstTokenTimeout);
        using var agent = new ClaudeAgent(options, TestTelemetry.Instance, clock, NullLogger<ClaudeAgent>.Instance);

        var replying = CollectAsync(agent, Hello);

        Assert.Equal(TimeSpan.FromSeconds(1), await clock.AdvanceToNextDelayAsync());
        Assert.Equal(ScriptedReply.Default.Text, Text(await replying));
        Assert.Equal(2, emulator.Requests.Count);
    }

    [Fact]
    public async Task Reply_RetryAfterBeyondBudget_GivesUpWithoutWaiting()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueFault(new AnthropicFault.Http429(RetryAfterSeconds: 30));
        using var agent = Agent(emulator);

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(agent, Hello));

        Assert.True(error.Retryable);
        Assert.Single(emulator.Requests);
    }

    [Fact]
    public async Task Reply_FailingThroughout_ThrowsAfterTwoRetries()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        for (var i = 0; i < 4; i++)
        {
            emulator.EnqueueFault(new AnthropicFault.Http529());
        }

        using var agent = Agent(emulator);

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(agent, Hello));

        Assert.Equal("anthropic", error.Provider);
        Assert.True(error.Retryable);
        Assert.Contains("529", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, emulator.Requests.Count);
    }

    [Fact]
    public async Task Reply_WrongKey_ThrowsNotRetryableWithoutRetrying()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        using var agent = new ClaudeAgent(Options(emulator) with { ApiKey = "sk-ant-wrong" }, TestTelemetry.Instance, TimeProvider.System, NullLogger<ClaudeAgent>.Instance);

        var error = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(agent, Hello));

        Assert.False(error.Retryable);
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.Single(emulator.Requests);
    }

    [Fact]
    public async Task Reply_ErrorEventAfterText_ThrowsWithoutRetrying()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueFault(new AnthropicFault.MidStreamError(AfterTokens: 2));
        emulator.EnqueueReply(new ScriptedReply("One two three four."));
        using var agent = Agent(emulator);

        var received = new List<AgentOutput>();
        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var output in agent.ReplyAsync(Hello, Ct))
            {
                received.Add(output);
            }
        });

        Assert.Equal("One two", Text(received));
        Assert.True(error.Retryable);
        Assert.Single(emulator.Requests);
    }

    [Fact]
    public async Task Reply_ErrorEventBeforeText_Retries()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueFault(new AnthropicFault.MidStreamError(AfterTokens: 0));
        using var agent = Agent(emulator);

        var outputs = await CollectAsync(agent, Hello);

        Assert.Equal(ScriptedReply.Default.Text, Text(outputs));
        Assert.Equal(2, emulator.Requests.Count);
    }

    [Fact]
    public async Task Reply_SilentModel_TimesOutAndRetries()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueFault(new AnthropicFault.Hang());
        using var agent = new ClaudeAgent(Options(emulator) with { FirstTokenTimeout = TimeSpan.FromMilliseconds(300) }, TestTelemetry.Instance, TimeProvider.System, NullLogger<ClaudeAgent>.Instance);

        var outputs = await CollectAsync(agent, Hello);

        Assert.Equal(ScriptedReply.Default.Text, Text(outputs));
        Assert.Equal(2, emulator.Requests.Count);
    }

    [Fact]
    public async Task Reply_EndCallTool_YieldsEndCallAfterTheGoodbye()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueReply(new ScriptedReply("Perfecto, hasta el viernes. Adiós.", "end_call"));
        using var agent = Agent(emulator);

        var outputs = await CollectAsync(agent, Hello);

        Assert.IsType<EndCallRequested>(outputs[^1]);
        Assert.Equal("Perfecto, hasta el viernes. Adiós.", Text(outputs[..^1]));
    }

    [Fact]
    public async Task Reply_CallerSaysGoodbye_EmulatorDefaultScriptEndsTheCall()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        using var agent = Agent(emulator);

        var outputs = await CollectAsync(agent, new AgentRequest(Brief, [new ChatMessage(Speaker.Caller, "That's all, bye!")]));

        Assert.Equal(ScriptedReply.Goodbye.Text, Text(outputs));
        Assert.IsType<EndCallRequested>(outputs[^1]);
    }

    [Fact]
    public async Task Reply_TransferTool_YieldsTransferRequested()
    {
        await using var emulator = await AnthropicEmulator.StartAsync(cancellationToken: Ct);
        emulator.EnqueueReply(new ScriptedReply("Le paso con una compañera.", "transfer_to_human", """{"reason":"asked for a person"}"""));
        using var agent = Agent(emulator, transferNumber: "+15550002222");

        var outputs = await CollectAsync(agent, Hello);

        Assert.IsType<TransferRequested>(outputs[^1]);
        Assert.All(outputs[..^1], o => Assert.IsType<TextDelta>(o));
    }

    [Fact]
    public async Task Reply_Cancelled_StopsTheStreamPromptly()
    {
        var text = string.Join(" ", Enumerable.Range(0, 100).Select(i => $"word{i}"));
        await using var emulator = await AnthropicEmulator.StartAsync(new AnthropicEmulatorOptions { TokensPerSecond = 10, Reply = _ => new ScriptedReply(text) }, Ct);
        using var agent = Agent(emulator);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var received = new List<AgentOutput>();
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var output in agent.ReplyAsync(Hello, cancel.Token))
            {
                received.Add(output);
                await cancel.CancelAsync();
            }
        });

        Assert.InRange(received.Count, 1, 10);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"stopped after {clock.Elapsed}; the whole reply takes 10 s");
        Assert.Single(emulator.Requests);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ClaudeOptions Options(AnthropicEmulator emulator, string? transferNumber = null) =>
        new(emulator.ApiKey, emulator.BaseUrl, "claude-haiku-4-5", 300, transferNumber, TimeSpan.FromSeconds(10));

    private static ClaudeAgent Agent(AnthropicEmulator emulator, string? transferNumber = null) =>
        new(Options(emulator, transferNumber), TestTelemetry.Instance, TimeProvider.System, NullLogger<ClaudeAgent>.Instance);

    private static async Task<List<AgentOutput>> CollectAsync(IAgent agent, AgentRequest request)
    {
        var outputs = new List<AgentOutput>();
        await foreach (var output in agent.ReplyAsync(request, Ct))
        {
            outputs.Add(output);
        }

        return outputs;
    }

    private static string Text(IEnumerable<AgentOutput> outputs) => string.Concat(outputs.OfType<TextDelta>().Select(d => d.Text));
}
