using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Failover;

/// <summary>
/// A live media-stream call outlives the service process (a real child process on SQLite): after a SIGKILL, or a
/// SIGTERM with a short drain, the process started again with the same INSTANCE_ID takes the call over at once and
/// resumes it through <c>streaming_start</c> with its history; nothing is dialled twice and nobody is hung up on.
/// </summary>
public sealed class RestartResumeTests : IDisposable
{
    private const string Phone = "+34600111222";
    private const string Greeting = "Hello Ana, this is the clinic.";
    private const string LineA = "I would like to move my appointment";
    private const string ReplyA = "Of course, which day suits you?";
    private const string LineB = "Thursday morning please";
    private const string ReplyB = "Thursday at nine it is.";

    private readonly string directory = Directory.CreateTempSubdirectory("telnyx-ai-failover-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task MediaCall_ServiceKilledAndRestarted_ResumedOnNewStreamWithHistoryAndDialledOnce()
    {
        await using var vendors = await StartVendorsAsync();
        var port = ServiceProcess.FreePort();
        var settings = vendors.SettingsFor(port, $"sqlite:{Path.Combine(directory, "calls.db")}", "solo");
        string callId;
        string callControlId;
        DateTimeOffset killedAt;
        await using (var first = await ServiceProcess.StartAsync(port, settings, directory, Ct))
        {
            (callId, callControlId) = await MediaVendors.InitiateAsync(first.Client, Phone, Greeting);
            await MediaVendors.WaitForStoredAsync(first.Client, callId, 3, ended: false, "the greeting, line A and its reply to be stored");
            await first.KillAsync();
            killedAt = DateTimeOffset.UtcNow;
        }

        var beforeCrash = await vendors.Callee.WaitForRecordingAsync(callControlId, 1, TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(CallEndReason.ServerClosed, beforeCrash.EndReason);
        Assert.NotNull(beforeCrash.FirstArrivalAfter(Assert.Single(beforeCrash.CallerLines).End));

        await using var second = await ServiceProcess.StartAsync(port, settings, directory, Ct);
        var answeringAt = DateTimeOffset.UtcNow;
        var resumed = await vendors.Callee.WaitForRecordingAsync(callControlId, 2, TimeSpan.FromSeconds(20), Ct);
        var heardAgainAt = vendors.FirstAgentAudioAt(callControlId, 2, resumed);
        var stored = await MediaVendors.WaitForStoredAsync(second.Client, callId, 6, ended: true, "the resumed call to end and be stored");

        Assert.Equal(CallEndReason.CallerHungUp, resumed.EndReason);
        var lineB = Assert.Single(resumed.CallerLines);
        Assert.Equal(LineB, lineB.Text);
        Assert.True(resumed.Arrivals[0].At < lineB.Start, "the agent spoke first on the resumed stream");
        Assert.NotNull(resumed.FirstArrivalAfter(lineB.End));
        var dial = Assert.Single(vendors.PlacedDials());
        Assert.True(dial.Timestamp < killedAt);
        Assert.Single(vendors.Telnyx.Calls);
        Assert.Single(vendors.Telnyx.Commands, c => c.Action == "streaming_start" && c.CallControlId == callControlId && c.StatusCode == 200);
        Assert.Equal(2, vendors.Telnyx.FindCall(callControlId)!.StreamsStarted);
        Assert.DoesNotContain(vendors.Telnyx.Commands, c => c.Action == "hangup");

        Assert.Equal("completed", stored.GetProperty("call").GetProperty("status").GetString());
        Assert.Equal(
            [("agent", Greeting), ("caller", LineA), ("agent", ReplyA), ("agent", MediaVendors.ResumedLine), ("caller", LineB), ("agent", ReplyB)],
            MediaVendors.Turns(stored));
        var lastRequest = vendors.Anthropic.Requests[^1].Messages;
        Assert.Contains(lastRequest, m => m.Role == "user" && m.Text.Contains(LineA, StringComparison.Ordinal));
        Assert.Contains(lastRequest, m => m.Role == "assistant" && m.Text.Contains(ReplyA, StringComparison.Ordinal));
        Assert.Equal(LineB, lastRequest[^1].Text);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"SIGKILL restart on SQLite: kill -> agent heard again {(heardAgainAt - killedAt).TotalMilliseconds:0} ms; " +
            $"restarted process's first 200 -> agent heard again {(heardAgainAt - answeringAt).TotalMilliseconds:0} ms; " +
            $"kill -> first 200 {(answeringAt - killedAt).TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task MediaCall_ServiceStoppedBySigterm_HandedOverWithoutHangupAndResumedByNextProcess()
    {
        await using var vendors = await StartVendorsAsync();
        var port = ServiceProcess.FreePort();
        var settings = vendors.SettingsFor(port, $"sqlite:{Path.Combine(directory, "calls.db")}", "solo");
        settings["DRAIN_SECONDS"] = "1";
        string callId;
        string callControlId;
        DateTimeOffset terminatedAt;
        DateTimeOffset exitedAt;
        await using (var first = await ServiceProcess.StartAsync(port, settings, directory, Ct))
        {
            (callId, callControlId) = await MediaVendors.InitiateAsync(first.Client, Phone, Greeting);
            await MediaVendors.WaitForStoredAsync(first.Client, callId, 3, ended: false, "the greeting, line A and its reply to be stored");
            terminatedAt = DateTimeOffset.UtcNow;
            Assert.Equal(0, await first.TerminateAsync(TimeSpan.FromSeconds(20)));
            exitedAt = DateTimeOffset.UtcNow;
        }

        var handedOver = await vendors.Callee.WaitForRecordingAsync(callControlId, 1, TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(CallEndReason.ServerClosed, handedOver.EndReason);
        Assert.True(vendors.Telnyx.FindCall(callControlId)!.IsAlive, "the call is still up at Telnyx");
        Assert.DoesNotContain(vendors.Telnyx.Commands, c => c.Timestamp >= terminatedAt && c.Action is "hangup" or "dial");
        Assert.True(exitedAt - terminatedAt >= TimeSpan.FromSeconds(1), "the call went on for DRAIN_SECONDS first");

        await using var second = await ServiceProcess.StartAsync(port, settings, directory, Ct);
        var answeringAt = DateTimeOffset.UtcNow;
        var resumed = await vendors.Callee.WaitForRecordingAsync(callControlId, 2, TimeSpan.FromSeconds(20), Ct);
        var heardAgainAt = vendors.FirstAgentAudioAt(callControlId, 2, resumed);
        var stored = await MediaVendors.WaitForStoredAsync(second.Client, callId, 6, ended: true, "the resumed call to end and be stored");

        Assert.Equal(CallEndReason.CallerHungUp, resumed.EndReason);
        Assert.True(resumed.Arrivals[0].At < Assert.Single(resumed.CallerLines).Start, "the agent spoke first on the resumed stream");
        Assert.Single(vendors.PlacedDials());
        Assert.Single(vendors.Telnyx.Commands, c => c.Action == "streaming_start" && c.CallControlId == callControlId && c.StatusCode == 200);
        Assert.DoesNotContain(vendors.Telnyx.Commands, c => c.Action == "hangup");
        Assert.Equal("completed", stored.GetProperty("call").GetProperty("status").GetString());
        Assert.Equal(
            [("agent", Greeting), ("caller", LineA), ("agent", ReplyA), ("agent", MediaVendors.ResumedLine), ("caller", LineB), ("agent", ReplyB)],
            MediaVendors.Turns(stored));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"SIGTERM handover on SQLite: exit {(exitedAt - terminatedAt).TotalMilliseconds:0} ms after SIGTERM; " +
            $"restarted process's first 200 -> agent heard again {(heardAgainAt - answeringAt).TotalMilliseconds:0} ms");
    }

    /// <summary>
    /// The caller hears the greeting, says line A and hears the reply, then stays on the line in silence; on the
    /// resumed stream it hears the agent, says line B, hears the reply and hangs up.
    /// </summary>
    private static Task<MediaVendors> StartVendorsAsync() => MediaVendors.StartAsync(
        (_, stream) => stream == 1
            ? new CallerScript().WaitForAgentToFinish().Say(LineA).WaitForAgentToFinish()
            : new CallerScript().WaitForAgentToFinish().Say(LineB).WaitForAgentToFinish().HangUp(),
        connection => connection == 0 ? [LineA] : [LineB],
        line => line.Contains(LineB, StringComparison.Ordinal) ? ReplyB : ReplyA);
}
