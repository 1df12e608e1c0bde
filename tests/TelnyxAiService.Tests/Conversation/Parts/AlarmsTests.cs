using Microsoft.Extensions.Time.Testing;
using TelnyxAiService.Conversation;

namespace TelnyxAiService.Tests.Conversation.Parts;

public sealed class AlarmsTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void After_FiresOnceWhenDue()
    {
        using var alarms = new Alarms(_time);
        var fired = 0;
        alarms.After(TimeSpan.FromSeconds(1), () => fired++);

        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(1, fired);
    }

    [Fact]
    public void After_NoDelay_FiresAtOnce()
    {
        using var alarms = new Alarms(_time);
        var fired = 0;

        alarms.After(TimeSpan.Zero, () => fired++);

        Assert.Equal(1, fired);
    }

    [Fact]
    public void Cancel_PendingAlarmsNeverFire()
    {
        using var alarms = new Alarms(_time);
        var fired = new List<int>();
        alarms.After(TimeSpan.FromSeconds(1), () => fired.Add(1));
        alarms.After(TimeSpan.FromSeconds(2), () => fired.Add(2));
        _time.Advance(TimeSpan.FromSeconds(1));

        alarms.Cancel();
        alarms.After(TimeSpan.FromSeconds(3), () => fired.Add(3));
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal([1, 3], fired);
    }
}
