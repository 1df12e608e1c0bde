using Microsoft.Extensions.Configuration;
using TelnyxAiService.Calls;
using TelnyxAiService.Configuration;
using TelnyxAiService.Storage;

namespace TelnyxAiService.Tests.Batches;

public sealed class BatchOptionsTests
{
    private static BatchOptions Read(Dictionary<string, string?> values) =>
        BatchOptions.Read(new SettingsReader(new ConfigurationBuilder().AddInMemoryCollection(values).Build()));

    [Fact]
    public void Read_Defaults_ThreeAttemptsNoWindow()
    {
        var options = Read([]);
        Assert.Equal((3, TimeSpan.FromMinutes(5), null), (options.MaxAttempts, options.RetryBackoff, options.Window));
    }

    [Fact]
    public void RetryDelay_EachAttempt_DoublesFromTheBackoff()
    {
        var options = Read(new() { ["BATCH_RETRY_BACKOFF_SECONDS"] = "30" });
        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(120)], [options.RetryDelay(1), options.RetryDelay(2), options.RetryDelay(3)]);
    }

    [Fact]
    public void Window_InItsTimeZone_ContainsOnlyLocalOfficeHours()
    {
        var window = Read(new() { ["BATCH_WINDOW"] = "09:00-18:00", ["BATCH_TIMEZONE"] = "Europe/Madrid" }).Window!;
        Assert.True(window.Contains(new DateTimeOffset(2026, 1, 15, 8, 30, 0, TimeSpan.Zero)));
        Assert.False(window.Contains(new DateTimeOffset(2026, 1, 15, 7, 30, 0, TimeSpan.Zero)));
        Assert.False(window.Contains(new DateTimeOffset(2026, 7, 15, 16, 30, 0, TimeSpan.Zero)));
        Assert.True(window.Contains(new DateTimeOffset(2026, 7, 15, 15, 59, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Window_AcrossMidnight_ContainsLateAndEarlyHours()
    {
        var window = CallingWindow.Parse("22:00-06:00", "UTC");
        Assert.True(window.Contains(new DateTimeOffset(2026, 1, 15, 23, 0, 0, TimeSpan.Zero)));
        Assert.True(window.Contains(new DateTimeOffset(2026, 1, 15, 5, 59, 0, TimeSpan.Zero)));
        Assert.False(window.Contains(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData("BATCH_WINDOW", "9-18")]
    [InlineData("BATCH_WINDOW", "09:00-09:00")]
    [InlineData("BATCH_TIMEZONE", "Mars/Olympus")]
    [InlineData("BATCH_MAX_ATTEMPTS", "0")]
    public void Read_BadValue_NamesTheSetting(string name, string value)
    {
        var values = new Dictionary<string, string?> { ["BATCH_WINDOW"] = "09:00-18:00", [name] = value };
        Assert.Equal(name, Assert.Throws<InvalidSettingException>(() => Read(values)).Name);
    }

    [Fact]
    public void CallIdFor_SameItemAndAttempt_IsStableAndDiffersPerAttempt()
    {
        Assert.Equal(BatchDispatcher.CallIdFor("b:1", 1), BatchDispatcher.CallIdFor("b:1", 1));
        Assert.NotEqual(BatchDispatcher.CallIdFor("b:1", 1), BatchDispatcher.CallIdFor("b:1", 2));
        Assert.Matches("^[0-9a-f]{32}$", BatchDispatcher.CallIdFor("b:1", 1));
    }

    [Theory]
    [InlineData(CallStatus.Completed, BatchItemStatus.Completed)]
    [InlineData(CallStatus.Busy, BatchItemStatus.Busy)]
    [InlineData(CallStatus.NoAnswer, BatchItemStatus.NoAnswer)]
    [InlineData(CallStatus.InterruptedByRestart, BatchItemStatus.Failed)]
    [InlineData(CallStatus.Failed, BatchItemStatus.Failed)]
    public void OutcomeOf_StoredCall_GivesTheItemOutcome(CallStatus call, BatchItemStatus item) =>
        Assert.Equal(item, BatchDispatcher.OutcomeOf(call));
}
