using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;

namespace TelnyxAiService.Tests.Conversation.Parts;

public sealed class ReplyRunnerTests : IAsyncDisposable
{
    private const string Question = "what time do you open";
    private static readonly TimeSpan Hold = TimeSpan.FromMilliseconds(600);
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingAudio _audio = new();
    private readonly List<Reply> _opened = [];
    private readonly List<string> _unanswered = [];
    private readonly TaskCompletionSource<Reply> _queued = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CallSession _session;
    private readonly TurnTaker _turn;
    private readonly ReplyRunner _replies;

    public ReplyRunnerTests()
    {
        _session = Parts.Session(_time);
        var services = Parts.Services(_time, new ScriptedAgent("We open at eight. We close at ten."), new RecordingCallControl());
        _turn = new TurnTaker(TimeSpan.FromMilliseconds(250), _time, _ => { });
        var speaker = new ReplySpeaker(_session, _audio, services, Phrases.For("en"));
        _replies = new ReplyRunner(_session, _turn, _audio, speaker, Hold, services.Stats, _time, NullLogger.Instance, _opened.Add, r => _queued.TrySetResult(r), _unanswered.Add);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Start_Answer_OpensOnceTheCallerHasBeenQuietForTheHold()
    {
        _turn.VoiceEnded(_time.GetUtcNow() - TimeSpan.FromMilliseconds(100));
        var reply = _replies.Start(Question, null, speculative: false);

        _time.Advance(Hold - TimeSpan.FromMilliseconds(101));
        Assert.Empty(_opened);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Same(reply, Assert.Single(_opened));
    }

    [Fact]
    public void Start_CallerStillHeard_HoldRunsFromNow()
    {
        _turn.VoiceStarted();
        var reply = _replies.Start(Question, null, speculative: false);

        _time.Advance(Hold - TimeSpan.FromMilliseconds(1));
        Assert.Empty(_opened);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Same(reply, Assert.Single(_opened));
    }

    [Fact]
    public void Start_FixedLine_OpensAtOnce()
    {
        var greeting = _replies.Start(null, "Hello there.", speculative: false);

        Assert.Same(greeting, Assert.Single(_opened));
    }

    [Fact]
    public void Start_NewerReply_OlderGateNeverOpens()
    {
        _replies.Start(Question, null, speculative: false);
        var newer = _replies.Start("and on Sunday", null, speculative: false);

        _time.Advance(Hold);

        Assert.Same(newer, Assert.Single(_opened));
    }

    [Fact]
    public async Task CutAsync_HeldBackAnswer_NothingClearedAndWordsUnanswered()
    {
        var reply = _replies.Start(Question, null, speculative: false);

        await _replies.CutAsync(reply);

        Assert.Equal([Question], _unanswered);

        Assert.Null(_replies.Current);
        Assert.Empty(_session.History());
        Assert.DoesNotContain("clear", _audio.Snapshot());
    }

    [Fact]
    public async Task CutAsync_AfterTheFirstSentenceWasHeard_HistoryKeepsOnlyThat()
    {
        var reply = await OpenedAnswerAsync();
        Assert.Same(reply, _replies.MarkPlayed(Reply.MarkName(reply.Id, 0)));

        await _replies.CutAsync(reply);

        Assert.Empty(_unanswered);
        Assert.Contains("clear", _audio.Snapshot());
        Assert.Equal(
            [new ChatMessage(Speaker.Caller, Question), new ChatMessage(Speaker.Agent, "We open at eight.", Interrupted: true)],
            _session.History());
    }

    [Fact]
    public async Task Heard_EverySentence_WholeReplyInHistory()
    {
        var reply = await OpenedAnswerAsync();
        _replies.MarkPlayed(Reply.MarkName(reply.Id, 0));
        Assert.False(reply.FullyHeard);
        _replies.MarkPlayed(Reply.MarkName(reply.Id, 1));
        Assert.Null(_replies.MarkPlayed(Reply.MarkName(reply.Id + 1, 0)));

        Assert.True(reply.FullyHeard);
        _replies.Heard(reply);

        Assert.Empty(_unanswered);
        Assert.Equal(new ChatMessage(Speaker.Agent, "We open at eight. We close at ten."), _session.History()[^1]);
    }

    [Fact]
    public void WordsChanged_SpeculationOnOtherWords_Dropped()
    {
        var speculative = _replies.Start("what time", null, speculative: true);
        _replies.WordsChanged("What time?");
        Assert.Same(speculative, _replies.Current);

        _replies.WordsChanged("what time do");

        Assert.Null(_replies.Current);
        Assert.False(_replies.TryPromote("what time do", _time.GetUtcNow()));
    }

    [Fact]
    public void TryPromote_SpeculationGuessedTheTurn_AnswersItAfterTheHold()
    {
        var speculative = _replies.Start(Question, null, speculative: true);
        _time.Advance(Hold);
        Assert.Empty(_opened);

        Assert.True(_replies.TryPromote("What time do you open?", _time.GetUtcNow()));
        _time.Advance(Hold);

        Assert.False(speculative.Speculative);
        Assert.Same(speculative, Assert.Single(_opened));
    }

    public async ValueTask DisposeAsync()
    {
        await _replies.StopAsync();
        _replies.Dispose();
        _turn.Dispose();
        _session.Dispose();
    }

    /// <summary>An answer let through its gate whose two sentences the speaker has queued.</summary>
    private async Task<Reply> OpenedAnswerAsync()
    {
        var reply = _replies.Start(Question, null, speculative: false);
        _time.Advance(Hold);
        Assert.Same(reply, Assert.Single(_opened));
        reply.Open();
        Assert.Same(reply, await _queued.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        reply.AllQueued();
        return reply;
    }
}
