using Microsoft.Extensions.Time.Testing;
using TelnyxAiService.Conversation;

namespace TelnyxAiService.Tests.Conversation.Parts;

public sealed class IdleMonitorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private static readonly Phrases English = Phrases.For("en");
    private readonly FakeTimeProvider _time = new();
    private readonly List<int> _due = [];

    [Fact]
    public void Elapsed_TwiceInSilence_AsksThenSaysGoodbye()
    {
        using var idle = new IdleMonitor(Timeout, English, _time, _due.Add);
        idle.Wait();
        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.Empty(_due);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(idle.IsCurrent(Assert.Single(_due)));
        Assert.Equal((English.AreYouStillThere, (CallEndReason?)null), idle.Elapsed());
        Assert.Equal((English.IdleGoodbye, (CallEndReason?)CallEndReason.IdleTimeout), idle.Elapsed());
    }

    [Fact]
    public void CallerSpoke_AfterTheQuestion_AsksAgainNextTime()
    {
        using var idle = new IdleMonitor(Timeout, English, _time, _due.Add);
        idle.Elapsed();

        idle.CallerSpoke();

        Assert.Equal(English.AreYouStillThere, idle.Elapsed().Line);
    }

    [Fact]
    public void Reset_WhileWaiting_NothingComesAndAnEarlierWaitIsStale()
    {
        using var idle = new IdleMonitor(Timeout, English, _time, _due.Add);
        idle.Wait();
        _time.Advance(Timeout);
        var stale = Assert.Single(_due);
        idle.Wait();

        idle.Reset();
        _time.Advance(Timeout * 2);

        Assert.Single(_due);
        Assert.False(idle.IsCurrent(stale));
    }
}
