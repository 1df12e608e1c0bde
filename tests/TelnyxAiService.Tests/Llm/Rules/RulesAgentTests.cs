using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using TelnyxAiService.Configuration;
using TelnyxAiService.Llm;
using TelnyxAiService.Llm.Rules;

namespace TelnyxAiService.Tests.Llm.Rules;

public sealed class RulesAgentTests
{
    private const string Script = """
        {
          "name": "test",
          "greeting": "Hello {name}. I am calling about {context}.",
          "intents": [
            { "name": "bye", "keywords": ["goodbye", "that's all"], "reply": "Goodbye {name}!", "end_call": true },
            { "name": "human", "keywords": ["person"], "reply": "Hold on.", "transfer": true },
            { "name": "cancel", "keywords": ["cancel"], "reply": "Cancelled. Anything else?" },
            { "name": "book", "keywords": ["book", "appointment"], "patterns": ["\\bsee (a|the) doctor\\b"], "reply": "Booked. See you soon." },
            { "name": "when", "patterns": ["^when\\b"], "reply": "Ten o'clock." }
          ],
          "fallback": "Sorry?"
        }
        """;

    private static readonly CallBrief Brief = new("Ana", "your test results", "en", "");

    [Fact]
    public async Task Reply_NoCallerWords_GreetsWithPlaceholdersFilled()
    {
        var outputs = await ReplyAsync(Agent(Script), []);

        Assert.Equal([new TextDelta("Hello Ana. "), new TextDelta("I am calling about your test results.")], outputs);
    }

    [Fact]
    public async Task Reply_TwoIntentsMatch_FirstInScriptOrderWins()
    {
        var outputs = await ReplyAsync(Agent(Script), [new(Speaker.Agent, "Hello."), new(Speaker.Caller, "I want to book, no, cancel my appointment")]);

        Assert.Equal("Cancelled. Anything else?", Text(outputs));
    }

    [Fact]
    public async Task Reply_KeywordInsideAnotherWord_DoesNotMatch()
    {
        var outputs = await ReplyAsync(Agent(Script), [new(Speaker.Caller, "my booking number is 12")]);

        Assert.Equal("Sorry?", Text(outputs));
    }

    [Fact]
    public async Task Reply_PunctuationAndCase_KeywordPhraseStillMatches()
    {
        var outputs = await ReplyAsync(Agent(Script), [new(Speaker.Caller, "OK. THAT'S ALL, thanks")]);

        Assert.Equal([new TextDelta("Goodbye Ana!"), new EndCallRequested()], outputs);
    }

    [Fact]
    public async Task Reply_PatternMatches_CaseInsensitive()
    {
        Assert.Equal("Booked. See you soon.", Text(await ReplyAsync(Agent(Script), [new(Speaker.Caller, "Can I See The Doctor?")])));
        Assert.Equal("Ten o'clock.", Text(await ReplyAsync(Agent(Script), [new(Speaker.Caller, "When is it")])));
        Assert.Equal("Sorry?", Text(await ReplyAsync(Agent(Script), [new(Speaker.Caller, "so when is it")])));
    }

    [Fact]
    public async Task Reply_TransferIntent_EndsWithTransferRequested()
    {
        var outputs = await ReplyAsync(Agent(Script), [new(Speaker.Caller, "a real person please")]);

        Assert.IsType<TransferRequested>(outputs[^1]);
        Assert.DoesNotContain(outputs, o => o is EndCallRequested);
    }

    [Fact]
    public async Task Reply_NothingMatches_Fallback()
    {
        var outputs = await ReplyAsync(Agent(Script), [new(Speaker.Caller, "the weather is nice")]);

        Assert.Equal([new TextDelta("Sorry?")], outputs);
    }

    [Fact]
    public async Task Reply_EmptyName_NoStraySpaceBeforePunctuation()
    {
        var outputs = await ReplyAsync(Agent(Script), [new(Speaker.Caller, "goodbye")], Brief with { Name = "" });

        Assert.Equal("Goodbye!", Text(outputs));
    }

    [Theory]
    [InlineData("i would like to book an appointment for tomorrow", "book")]
    [InlineData("yes that works for me", "yes")]
    [InlineData("can you call me back this afternoon", "callback")]
    [InlineData("i need to cancel my reservation", "cancel")]
    [InlineData("what time do you open on monday", "hours")]
    [InlineData("i want to move my appointment", "reschedule")]
    [InlineData("where are you", "address")]
    [InlineData("can i talk to a person", "person")]
    [InlineData("no", "no")]
    [InlineData("nothing else thank you goodbye", "goodbye")]
    public void DefaultScript_CallerSentence_MatchesIntent(string said, string intent)
    {
        var script = RulesAgentOptions.Read(Settings()).Script;

        Assert.Equal(intent, script.Match(said)?.Name);
    }

    [Fact]
    public async Task DefaultScript_Goodbye_EndsTheCall()
    {
        var agent = new RulesAgent(RulesAgentOptions.Read(Settings()), NullLogger<RulesAgent>.Instance);

        var outputs = await ReplyAsync(agent, [new(Speaker.Caller, "goodbye")]);

        Assert.IsType<EndCallRequested>(outputs[^1]);
    }

    [Theory]
    [InlineData("{", "not a valid script")]
    [InlineData("""{"name":"x","greeting":"hi","intents":[],"fallback":"?","extra":1}""", "extra")]
    [InlineData("""{"name":"x","intents":[],"fallback":"?"}""", "greeting is required")]
    [InlineData("""{"name":"x","greeting":"hi","intents":[{"name":"a","reply":"r"}],"fallback":"?"}""", "intent 'a' needs at least one keyword or pattern")]
    [InlineData("""{"name":"x","greeting":"hi","intents":[{"name":"a","patterns":["(unclosed"],"reply":"r"}],"fallback":"?"}""", "intent 'a' has a bad pattern")]
    [InlineData("""{"name":"x","greeting":"hi {who}","intents":[],"fallback":"?"}""", "greeting uses {who}")]
    [InlineData("""{"name":"x","greeting":"hi","intents":[{"name":"a","keywords":["!"],"reply":"r"}],"fallback":"?"}""", "intent 'a' has an empty keyword")]
    public void Parse_BadScript_ThrowsNamingAgentScriptAndTheReason(string json, string reason)
    {
        var error = Assert.Throws<InvalidSettingException>(() => AgentScript.Parse(json, "bad.json"));

        Assert.Equal("AGENT_SCRIPT", error.Name);
        Assert.Contains("bad.json", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ScriptFileMissing_ThrowsNamingAgentScript()
    {
        var error = Assert.Throws<InvalidSettingException>(() => RulesAgentOptions.Read(Settings(("AGENT_SCRIPT", "/nonexistent/agent.json"))));

        Assert.Equal("AGENT_SCRIPT", error.Name);
        Assert.Contains("/nonexistent/agent.json", error.Message, StringComparison.Ordinal);
    }

    private static RulesAgent Agent(string json) =>
        new(new RulesAgentOptions(AgentScript.Parse(json, "test.json")), NullLogger<RulesAgent>.Instance);

    private static async Task<List<AgentOutput>> ReplyAsync(RulesAgent agent, ChatMessage[] history, CallBrief? brief = null)
    {
        var outputs = new List<AgentOutput>();
        await foreach (var output in agent.ReplyAsync(new AgentRequest(brief ?? Brief, history), TestContext.Current.CancellationToken))
        {
            outputs.Add(output);
        }

        return outputs;
    }

    private static string Text(List<AgentOutput> outputs) => string.Concat(outputs.OfType<TextDelta>().Select(d => d.Text));

    private static SettingsReader Settings(params (string Name, string Value)[] values) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Name, (string?)v.Value))).Build());
}
