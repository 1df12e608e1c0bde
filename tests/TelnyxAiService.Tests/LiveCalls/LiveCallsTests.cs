using System.Text.Json;
using TelnyxAiService.LiveCalls;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.BargeInScript;
using static TelnyxAiService.Tests.Conversation.MediaStreamCallTests;

namespace TelnyxAiService.Tests.LiveCalls;

/// <summary><c>GET /api/live</c>: what the console sees of a call while it happens.</summary>
public sealed class LiveCallsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Live_BargeInCall_StreamsStatesWordsLinesWithLatencyAndTheEnd()
    {
        await using var harness = await ServiceHarness.StartAsync(Harness(), Ct);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var events = new List<JsonElement>();
        using var response = await harness.Client.GetAsync("/api/live", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var reading = ReadAsync(await response.Content.ReadAsStreamAsync(Ct), events, watching.Token);

        await CallAsync(harness);
        await Wait.UntilAsync(() => Snapshot(events).Any(e => Type(e) == "ended"), "the call's end on the live stream");
        await watching.CancelAsync();
        await reading;

        var seen = Snapshot(events);
        var shown = Assert.Single(seen, e => Type(e) == "call");
        Assert.Equal("+34600111222", shown.GetProperty("phone").GetString());
        Assert.Equal("Ana", shown.GetProperty("name").GetString());
        Assert.Equal("outbound", shown.GetProperty("direction").GetString());
        Assert.Equal("ringing", shown.GetProperty("state").GetString());
        var callId = shown.GetProperty("call_id").GetString();
        Assert.All(seen.Where(e => Type(e) != "heartbeat"), e => Assert.Equal(callId, e.GetProperty("call_id").GetString()));

        var states = seen.Where(e => Type(e) == "state").Select(e => e.GetProperty("state").GetString()).ToList();
        Assert.Equal("listening", states[0]);
        Assert.Contains("agent_speaking", states);
        Assert.Contains("caller_speaking", states);

        // The caller's words arrive before their line is finished; the cut reply's line holds what was heard of it.
        var words = seen.Where(e => Type(e) == "caller_words").Select(e => e.GetProperty("text").GetString()).ToList();
        Assert.Contains(Question, words);
        Assert.Contains(Interruption, words);
        var lines = seen.Where(e => Type(e) == "line").Select(e => e.GetProperty("line")).ToList();
        Assert.True(seen.FindIndex(e => Type(e) == "caller_words") < seen.FindIndex(e => Type(e) == "line" && e.GetProperty("line").GetProperty("speaker").GetString() == "caller"));
        var cut = Assert.Single(lines, l => l.GetProperty("interrupted").GetBoolean());
        Assert.Equal(("agent", FirstSentence), (cut.GetProperty("speaker").GetString(), cut.GetProperty("text").GetString()));
        Assert.True(cut.GetProperty("latency").GetProperty("voice_to_voice").GetInt32() > 0);
        Assert.Contains(seen, e => Type(e) == "agent_words" && e.GetProperty("text").GetString() == FirstSentence);
        Assert.Contains(lines, l => l.GetProperty("text").GetString() == Cancelled);

        var ended = seen.Last(e => Type(e) != "heartbeat");
        Assert.Equal(("ended", "completed"), (Type(ended), ended.GetProperty("outcome").GetString()));
    }

    [Fact]
    public void Feed_NewWatcher_GetsLiveCallsAsTheyAreNowThenChanges()
    {
        var feed = new LiveCallFeed();
        feed.Publish(Shown("a"));
        feed.Publish(new CallerWords("a", "hello"));
        feed.Publish(Shown("b"));
        feed.Publish(new CallEnded("b", "completed", "remote_hangup"));

        var reader = feed.Watch(null, Ct);
        feed.Publish(new StateChanged("a", LiveState.CallerSpeaking));

        Assert.True(reader.TryRead(out var first));
        var call = Assert.IsType<CallShown>(first);
        Assert.Equal(("a", "hello"), (call.CallId, call.CallerWords));
        Assert.True(reader.TryRead(out var next));
        Assert.Equal(new StateChanged("a", LiveState.CallerSpeaking), next);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void Feed_WatcherOfOneCall_SeesOnlyThatCall()
    {
        var feed = new LiveCallFeed();
        feed.Publish(Shown("a"));
        feed.Publish(Shown("b"));
        var reader = feed.Watch("b", Ct);
        feed.Publish(new CallerWords("a", "not this"));
        feed.Publish(new CallerWords("b", "this"));

        Assert.Equal("b", Assert.IsType<CallShown>(Read(reader)).CallId);
        Assert.Equal(new CallerWords("b", "this"), Read(reader));
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public async Task Feed_WatcherThatFallsBehind_IsDroppedWithoutSlowingTheCall()
    {
        var feed = new LiveCallFeed();
        feed.Publish(Shown("a"));
        var reader = feed.Watch(null, Ct);
        for (var i = 0; i < 5000; i++)
        {
            feed.Publish(new CallerWords("a", $"word {i}"));
        }

        var read = 0;
        await foreach (var _ in reader.ReadAllAsync(Ct))
        {
            read++;
        }

        Assert.InRange(read, 1000, 1100);
        var again = feed.Watch(null, Ct);
        Assert.Equal("word 4999", Assert.IsType<CallShown>(Read(again)).CallerWords);
    }

    [Fact]
    public void Feed_LineAdded_KeepsTheLatestLinesAndClearsThatSpeakersWordsInProgress()
    {
        var feed = new LiveCallFeed();
        feed.Publish(Shown("a"));
        feed.Publish(new CallerWords("a", "hi"));
        feed.Publish(new AgentWords("a", "Hello."));
        for (var i = 0; i < LiveCallFeed.MaxLines + 5; i++)
        {
            feed.Publish(new LineAdded("a", new TelnyxAiService.Calls.TurnView(i, "caller", $"line {i}", default, default, false, new TelnyxAiService.Storage.TurnLatency())));
        }

        var call = Assert.IsType<CallShown>(Read(feed.Watch(null, Ct)));
        Assert.Equal(LiveCallFeed.MaxLines, call.Lines.Count);
        Assert.Equal((5, LiveCallFeed.MaxLines + 4), (call.Lines[0].Seq, call.Lines[^1].Seq));
        Assert.Null(call.CallerWords);
        Assert.Equal("Hello.", call.AgentWords);
    }

    private static CallShown Shown(string id) => new(id, "outbound", "+34600111222", null, LiveState.Ringing, DateTimeOffset.UnixEpoch, [], null, null);

    private static LiveEvent Read(System.Threading.Channels.ChannelReader<LiveEvent> reader) =>
        reader.TryRead(out var live) ? live : throw new InvalidOperationException("no event");

    private static string? Type(JsonElement e) => e.GetProperty("type").GetString();

    private static List<JsonElement> Snapshot(List<JsonElement> events)
    {
        lock (events)
        {
            return [.. events];
        }
    }

    /// <summary>Collects the stream's events (the <c>data:</c> line of each) until cancelled.</summary>
    private static async Task ReadAsync(Stream stream, List<JsonElement> events, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream);
        try
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    lock (events)
                    {
                        events.Add(JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone());
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
