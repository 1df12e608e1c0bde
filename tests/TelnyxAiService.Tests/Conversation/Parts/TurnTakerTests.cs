using Microsoft.Extensions.Time.Testing;
using TelnyxAiService.Conversation;

namespace TelnyxAiService.Tests.Conversation.Parts;

public sealed class TurnTakerTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(250);
    private readonly FakeTimeProvider _time = new();
    private readonly List<int> _wakes = [];

    [Fact]
    public void Speculation_WordsStableForTheDelay_OffersThem()
    {
        using var turn = new TurnTaker(Delay, _time, _wakes.Add);
        turn.Hear("what time do", isFinal: false);

        Assert.Null(turn.Speculation());
        _time.Advance(Delay - TimeSpan.FromMilliseconds(1));
        Assert.Empty(_wakes);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal([turn.Version], _wakes);
        Assert.Equal("what time do", turn.Speculation());
    }

    [Fact]
    public void Speculation_NewWords_WakeForTheOldOnesIsDropped()
    {
        using var turn = new TurnTaker(Delay, _time, _wakes.Add);
        turn.Hear("what time", isFinal: false);
        Assert.Null(turn.Speculation());
        _time.Advance(TimeSpan.FromMilliseconds(200));
        turn.Hear("what time do you", isFinal: false);
        Assert.Null(turn.Speculation());

        _time.Advance(Delay);

        Assert.Equal([turn.Version], _wakes);
    }

    [Theory]
    [InlineData("hello", false)]
    [InlineData("what time", true)]
    public void Speculation_OneWordOrCallerStillSpeaking_NoneAndNoWake(string words, bool speaking)
    {
        using var turn = new TurnTaker(Delay, _time, _wakes.Add);
        turn.Hear(words, isFinal: true);
        if (speaking)
        {
            turn.VoiceStarted();
        }

        _time.Advance(Delay);

        Assert.Null(turn.Speculation());
        Assert.Empty(_wakes);
    }

    [Fact]
    public void End_FinalsAndInterim_OneTurnThenEmpty()
    {
        using var turn = new TurnTaker(Delay, _time, _wakes.Add);
        turn.Hear("I'd like", isFinal: true);
        turn.Hear("a table for", isFinal: true);
        turn.Hear("two", isFinal: false);

        Assert.True(turn.Open);
        Assert.Equal("I'd like a table for two", turn.End());
        Assert.False(turn.Open);
        Assert.Equal("", turn.End());
    }

    [Fact]
    public void Carry_UnheardAnswer_WordsLeadTheNextTurn()
    {
        using var turn = new TurnTaker(Delay, _time, _wakes.Add);
        turn.Carry("what time do you open");

        Assert.True(turn.Open);
        turn.Hear("on Sunday", isFinal: true);
        Assert.Equal("what time do you open on Sunday", turn.End());
        Assert.Equal("", turn.Text);
    }

    [Fact]
    public void Pressed_KeyIsTheTurnAndTheVoiceEnd()
    {
        using var turn = new TurnTaker(Delay, _time, _wakes.Add);
        turn.Pressed("5");

        Assert.Equal(_time.GetUtcNow(), turn.LastVoiceAt);
        Assert.Equal("[pressed 5]", turn.End());
    }

    [Fact]
    public void SaidOver_BackchannelInterimForgottenOnlyOnceFinal()
    {
        using var turn = new TurnTaker(Delay, _time, _wakes.Add);
        turn.Hear("mm-hm", isFinal: false);
        turn.ForgetInterim(isFinal: false);
        Assert.Equal("mm-hm", turn.Text);

        turn.ForgetInterim(isFinal: true);

        Assert.Equal("", turn.Text);
        Assert.Equal("so", turn.SaidOver("so"));
    }
}
