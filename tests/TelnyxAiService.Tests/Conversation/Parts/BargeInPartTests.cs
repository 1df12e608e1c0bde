using Microsoft.Extensions.Time.Testing;
using TelnyxAiService.Conversation;

namespace TelnyxAiService.Tests.Conversation.Parts;

public sealed class BargeInPartTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(700);
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingAudio _audio = new();
    private readonly List<int> _checks = [];

    [Fact]
    public void Start_PausesAtOnceAndChecksAfterTheGrace()
    {
        using var bargeIn = new BargeIn(_audio, Grace, _time, _checks.Add);

        bargeIn.Start();
        bargeIn.Start();

        Assert.Equal(["pause"], _audio.Snapshot());
        _time.Advance(Grace - TimeSpan.FromMilliseconds(1));
        Assert.Empty(_checks);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Single(_checks);
        Assert.Equal(BargeIn.Verdict.Resume, bargeIn.Check(_checks[0], callerSpeaking: false, canCut: true));
    }

    [Fact]
    public void VoiceEnded_ChecksOnceTheRecogniserCaughtUp()
    {
        using var bargeIn = new BargeIn(_audio, Grace, _time, _checks.Add);
        bargeIn.Start();
        _time.Advance(TimeSpan.FromMilliseconds(100));

        bargeIn.VoiceEnded();
        _time.Advance(BargeIn.RecogniserCatchUp);

        Assert.Single(_checks);
    }

    [Fact]
    public void Check_CallerKeepsSpeaking_RechecksThenCutsAtLongSpeech()
    {
        using var bargeIn = new BargeIn(_audio, Grace, _time, _checks.Add);
        bargeIn.Start();
        var verdicts = new List<BargeIn.Verdict>();
        for (var step = 0; step < 4; step++)
        {
            _time.Advance(step == 0 ? Grace : BargeIn.Recheck);
            verdicts.Add(bargeIn.Check(_checks[^1], callerSpeaking: true, canCut: true));
        }

        // 700 ms, 900 ms, 1100 ms: keep waiting; 1300 ms: past the 1200 ms of long speech.
        Assert.Equal([BargeIn.Verdict.Wait, BargeIn.Verdict.Wait, BargeIn.Verdict.Wait, BargeIn.Verdict.Cut], verdicts);
    }

    [Fact]
    public void Check_ForAnEarlierBargeIn_Ignored()
    {
        using var bargeIn = new BargeIn(_audio, Grace, _time, _checks.Add);
        bargeIn.Start();
        bargeIn.VoiceEnded();
        _time.Advance(BargeIn.RecogniserCatchUp);
        var stale = _checks[0];
        bargeIn.Stop();
        bargeIn.Start();

        Assert.Equal(BargeIn.Verdict.Wait, bargeIn.Check(stale, callerSpeaking: false, canCut: true));
    }

    [Fact]
    public void Stop_ResumesAndNoCheckComes()
    {
        using var bargeIn = new BargeIn(_audio, Grace, _time, _checks.Add);
        bargeIn.Start();

        bargeIn.Stop();
        _time.Advance(Grace * 2);

        Assert.False(bargeIn.Active);
        Assert.Equal(["pause", "resume"], _audio.Snapshot());
        Assert.Empty(_checks);
    }

    [Theory]
    [InlineData("wait, I need Monday", true, "Cut")]
    [InlineData("wait, I need", false, "Cut")]
    [InlineData("mm-hm", true, "Resume")]
    [InlineData("mm-hm", false, "Wait")]
    [InlineData("", true, "Resume")]
    public void Hear_WordsOverTheAgent(string words, bool isFinal, string expected)
    {
        using var bargeIn = new BargeIn(_audio, Grace, _time, _checks.Add);
        bargeIn.Start();

        Assert.Equal(expected, bargeIn.Hear(words, isFinal).ToString());
    }
}
