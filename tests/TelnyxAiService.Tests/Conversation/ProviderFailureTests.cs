using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Conversation;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Emulators.ElevenLabs;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Llm;
using TelnyxAiService.Storage;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.MediaStreamCallTests;
using CallEndReason = TelnyxAiService.Emulators.Telnyx.Media.CallEndReason;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>A vendor failing mid-call: the caller still gets an answer.</summary>
public sealed class ProviderFailureTests
{
    private const string Line = "I would like to book a cleaning";
    private const string Answer = "Monday at ten works.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Deepgram_ConnectionDropsDuringGreeting_ReconnectsAndNextTurnAnswered()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(Answer) },
                Deepgram = new DeepgramEmulatorOptions { Segments = [Line], DropConnectionAfter = TimeSpan.FromSeconds(1), DropOnConnection = 0 },
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .Say(Line)
                    .WaitForAgentToFinish()
                    .HangUp(),
            },
            Ct);

        var recording = await CallAsync(harness);

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        Assert.True(harness.Deepgram.Connections[0].Dropped);
        Assert.True(harness.Deepgram.Connections.Count >= 2, "no new Deepgram connection after the drop");
        Assert.Equal(Line, harness.Anthropic.Requests[^1].Messages[^1].Text);
        var line = Assert.Single(recording.CallerLines);
        Assert.InRange(StreamCalls.HeardFramesAfter(recording, line.End), StreamCalls.FramesOf(Answer) - 1, StreamCalls.FramesOf(Answer));
    }

    [Fact]
    public async Task ElevenLabs_FailsForOneReply_ThatReplyGoesOutAsTelnyxSpeak()
    {
        ElevenLabsEmulator? elevenLabs = null;
        var failed = 0;
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions
                {
                    Reply = _ =>
                    {
                        // The first synthesis of this reply fails, and so does its one retry.
                        if (Interlocked.Exchange(ref failed, 1) == 0)
                        {
                            elevenLabs!.FailNext(ElevenLabsFault.Http500, 2);
                        }

                        return new ScriptedReply(Answer);
                    },
                },
                Deepgram = Segments(Line),
                Settings = { ["SPECULATIVE_REPLY_MS"] = "0" },
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .Say(Line)
                    .Silence(TimeSpan.FromSeconds(2))
                    .HangUp(),
            },
            Ct);
        elevenLabs = harness.ElevenLabs;

        var recording = await CallAsync(harness);

        var speak = Assert.Single(harness.Telnyx.Commands, c => c.Action == "speak");
        Assert.Equal(Answer, speak.Body.GetProperty("payload").GetString());
        Assert.Single(recording.CallerLines);
        Assert.Equal([Greeting, Answer, Answer], StreamCalls.SynthesisedTexts(harness.ElevenLabs));
    }

    [Fact]
    public async Task Claude_OverloadedOnEveryAttempt_FallbackLineSpoken()
    {
        var fallback = Phrases.For("en").Fallback;
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Deepgram = Segments(Line),
                Settings = { ["SPECULATIVE_REPLY_MS"] = "0" },
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .Say(Line)
                    .WaitForAgentToFinish()
                    .HangUp(),
            },
            Ct);
        for (var i = 0; i < 3; i++)
        {
            harness.Anthropic.EnqueueFault(new AnthropicFault.Http529());
        }

        var recording = await CallAsync(harness);

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        Assert.Equal(3, harness.Anthropic.Requests.Count);
        Assert.All(harness.Anthropic.Requests, r => Assert.Equal(Line, r.Messages[^1].Text));
        var spoken = StreamCalls.SynthesisedTexts(harness.ElevenLabs);
        Assert.Equal(Greeting, spoken[0]);
        Assert.Equal(fallback, string.Join(' ', spoken.Skip(1)));
        var line = Assert.Single(recording.CallerLines);
        Assert.InRange(StreamCalls.HeardFramesAfter(recording, line.End), StreamCalls.FramesOf([.. spoken.Skip(1)]) - 2, StreamCalls.FramesOf([.. spoken.Skip(1)]));
    }

    [Fact]
    public async Task Agent_ThrowsUnexpectedException_FallbackLineSpokenAndEndStored()
    {
        var fallback = Phrases.For("en").Fallback;
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Deepgram = Segments(Line),
                Settings = { ["SPECULATIVE_REPLY_MS"] = "0" },
                Services = services => services.AddSingleton<IAgent>(new BrokenAgent()),
                Caller = _ => new CallerScript()
                    .WaitForAgentToFinish()
                    .Say(Line)
                    .WaitForAgentToFinish()
                    .HangUp(),
            },
            Ct);

        var recording = await CallAsync(harness);

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        var spoken = StreamCalls.SynthesisedTexts(harness.ElevenLabs);
        Assert.Equal(Greeting, spoken[0]);
        Assert.Equal(fallback, string.Join(' ', spoken.Skip(1)));
        var store = harness.Services.GetRequiredService<ICallStore>();
        CallRecord? call = null;
        await Wait.UntilAsync(async () => (call = (await store.ListCallsAsync(new CallQuery(), Ct)).Calls.Single()).EndReason is not null, "the stored end");
        Assert.Equal("remote_hangup", call!.EndReason);
    }

    /// <summary>An agent whose SDK throws something other than a provider failure.</summary>
    private sealed class BrokenAgent : IAgent
    {
        public async IAsyncEnumerable<AgentOutput> ReplyAsync(AgentRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            yield return await Task.FromException<AgentOutput>(new InvalidOperationException("the SDK broke"));
        }
    }
}
