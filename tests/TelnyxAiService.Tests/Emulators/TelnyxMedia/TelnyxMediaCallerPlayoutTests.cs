using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.Telnyx.Media;

namespace TelnyxAiService.Tests.Emulators.TelnyxMedia;

public sealed class TelnyxMediaCallerPlayoutTests
{
    private static readonly EmulatedAudioFormat Pcmu = EmulatedAudioFormat.Pcmu8k;

    [Fact]
    public async Task Mark_AfterQueuedAudio_EchoedOnlyOnceTheAudioHasPlayed()
    {
        var ct = TestContext.Current.CancellationToken;
        var audio = Speech(TimeSpan.FromSeconds(1));
        var echoes = new List<(string Name, TimeSpan AfterAudioSent)>();
        await using var server = await FakeMediaServer.StartAsync(async (agent, token) =>
        {
            await agent.NextAsync("start", token);
            await agent.SendMarkAsync("idle", token);
            var sent = agent.Now;
            await agent.SendMediaAsync(audio, token);
            await agent.SendMarkAsync("played", token);
            for (var i = 0; i < 2; i++)
            {
                var echo = await agent.NextAsync("mark", token);
                echoes.Add((echo.Json.GetProperty("mark").GetProperty("name").GetString()!, echo.At - sent));
            }
        });

        var recording = await TelnyxMediaCaller.RunAsync(
            new MediaCallSettings { StreamUrl = server.StreamUrl() }, new CallerScript().WaitForAgentToFinish(TimeSpan.FromMilliseconds(300)).HangUp(), ct);
        await server.Finished;

        Assert.Equal(["idle", "played"], echoes.Select(e => e.Name));
        Assert.True(echoes[0].AfterAudioSent < TimeSpan.FromSeconds(1), $"idle mark echoed at {echoes[0].AfterAudioSent}");
        Assert.True(echoes[1].AfterAudioSent >= TimeSpan.FromMilliseconds(950), $"mark echoed {echoes[1].AfterAudioSent} after its audio was sent");
        var arrival = Assert.Single(recording.Arrivals);
        Assert.Equal(audio, arrival.Audio);
        Assert.True(recording.MarksEchoed[1].At >= arrival.At + TimeSpan.FromSeconds(1));
        var heard = Assert.Single(recording.Heard);
        Assert.Equal(audio, heard.Audio);
        Assert.Equal(TimeSpan.FromSeconds(1), heard.AudioDuration);
        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
    }

    [Fact]
    public async Task Clear_DuringPlayback_EchoesPendingMarksAndCutsWhatIsHeard()
    {
        var ct = TestContext.Current.CancellationToken;
        var audio = Speech(TimeSpan.FromSeconds(3));
        var echoAfterSend = TimeSpan.Zero;
        await using var server = await FakeMediaServer.StartAsync(async (agent, token) =>
        {
            await agent.NextAsync("start", token);
            var sent = agent.Now;
            await agent.SendMediaAsync(audio, token);
            await agent.SendMarkAsync("reply-end", token);
            await Task.Delay(500, token);
            await agent.SendClearAsync(token);
            echoAfterSend = (await agent.NextAsync("mark", token)).At - sent;
        });

        var recording = await TelnyxMediaCaller.RunAsync(
            new MediaCallSettings { StreamUrl = server.StreamUrl() }, new CallerScript().WaitForAgentToFinish(TimeSpan.FromMilliseconds(300)).HangUp(), ct);
        await server.Finished;

        Assert.True(echoAfterSend < TimeSpan.FromMilliseconds(2500), $"mark echoed {echoAfterSend} after the audio, not at the clear");
        var clear = Assert.Single(recording.Clears);
        var mark = Assert.Single(recording.MarksEchoed);
        Assert.Equal("reply-end", mark.Name);
        Assert.True(mark.At >= clear);
        var heard = Assert.Single(recording.Heard);
        Assert.InRange(clear - heard.End, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.InRange(heard.AudioDuration, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(2500));
        Assert.Equal(audio.AsSpan(0, heard.Audio.Length).ToArray(), heard.Audio);
    }

    [Fact]
    public async Task Script_SayThenWaitForAgentToFinish_RecordsTheTurnTimeline()
    {
        var ct = TestContext.Current.CancellationToken;
        var reply = Speech(TimeSpan.FromMilliseconds(800));
        await using var server = await FakeMediaServer.StartAsync(async (agent, token) =>
        {
            await agent.NextAsync(IsSpeech, token);
            await agent.NextAsync(f => f.Event == "media" && !IsSpeech(f), token);
            await SpeakPacedAsync(agent, reply, token);
        });

        var recording = await TelnyxMediaCaller.RunAsync(
            new MediaCallSettings { StreamUrl = server.StreamUrl() },
            new CallerScript().Say("what are your opening hours").WaitForAgentToFinish().HangUp(),
            ct);
        await server.Finished;

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        var line = Assert.Single(recording.CallerLines);
        Assert.Equal("what are your opening hours", line.Text);
        Assert.True(line.End - line.Start >= SyntheticSpeech.DurationOf(line.Text) - TimeSpan.FromMilliseconds(40));
        var firstReply = recording.FirstArrivalAfter(line.End);
        Assert.NotNull(firstReply);
        var heard = Assert.Single(recording.Heard);
        Assert.Equal(reply, heard.Audio);
        Assert.True(heard.Start >= line.End);
        Assert.True(recording.Duration >= heard.End + TimeSpan.FromMilliseconds(600), "the caller waited for 600 ms of quiet");
    }

    [Fact]
    public async Task Script_CallerBargesIn_AgentClearsAndTheRestIsNeverHeard()
    {
        var ct = TestContext.Current.CancellationToken;
        var reply = Speech(TimeSpan.FromSeconds(4));
        await using var server = await FakeMediaServer.StartAsync(async (agent, token) =>
        {
            await agent.NextAsync("start", token);
            using var bargeIn = CancellationTokenSource.CreateLinkedTokenSource(token);
            var listening = Task.Run(
                async () =>
                {
                    await agent.NextAsync(IsSpeech, token);
                    await bargeIn.CancelAsync();
                },
                token);
            try
            {
                await SpeakPacedAsync(agent, reply, bargeIn.Token);
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                await agent.SendClearAsync(token);
            }

            await listening;
        });

        var recording = await TelnyxMediaCaller.RunAsync(
            new MediaCallSettings { StreamUrl = server.StreamUrl() },
            new CallerScript().WaitForAgentSpeech(TimeSpan.FromMilliseconds(500)).Say("stop").Silence(TimeSpan.FromMilliseconds(300)).HangUp(),
            ct);
        await server.Finished;

        Assert.Equal(CallEndReason.CallerHungUp, recording.EndReason);
        var line = Assert.Single(recording.CallerLines);
        var clear = Assert.Single(recording.Clears);
        Assert.True(clear > line.Start);
        var heard = Assert.Single(recording.Heard);
        Assert.InRange(clear - heard.End, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.True(heard.End - heard.Start >= TimeSpan.FromMilliseconds(450), $"heard the agent from {heard.Start} to {heard.End} before barging in");
        Assert.True(heard.AudioDuration < TimeSpan.FromSeconds(3.5), $"heard {heard.AudioDuration} of a 4 s reply");
        Assert.Equal(reply.AsSpan(0, heard.Audio.Length).ToArray(), heard.Audio);
    }

    [Fact]
    public async Task Script_WaitStepTimesOut_HangsUpAndMarksTheRecording()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeMediaServer.StartAsync();

        var recording = await TelnyxMediaCaller.RunAsync(
            new MediaCallSettings { StreamUrl = server.StreamUrl() },
            new CallerScript().WaitForAgentSpeech(timeout: TimeSpan.FromMilliseconds(300)).Say("never said").HangUp(),
            ct);
        await server.Finished;

        Assert.Equal(CallEndReason.TimedOut, recording.EndReason);
        Assert.IsType<WaitForAgentSpeechStep>(recording.TimedOutStep);
        Assert.Empty(recording.CallerLines);
        Assert.Equal("stop", (await server.Connection).Received[^1].Event);
    }

    [Fact]
    public async Task Caller_Cancelled_SendsStopAndClosesLikeAHangup()
    {
        using var hangup = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        await using var server = await FakeMediaServer.StartAsync(async (agent, token) =>
        {
            for (var i = 0; i < 3; i++)
            {
                await agent.NextAsync("media", token);
            }

            await hangup.CancelAsync();
        });

        var recording = await TelnyxMediaCaller.RunAsync(new MediaCallSettings { StreamUrl = server.StreamUrl() }, new CallerScript(), hangup.Token);
        await server.Finished;

        Assert.Equal(CallEndReason.Cancelled, recording.EndReason);
        var frames = (await server.Connection).Received;
        Assert.Equal("stop", frames[^1].Event);
        Assert.True(frames.Count(f => f.Event == "media") >= 3);
    }

    private static byte[] Speech(TimeSpan duration) => Pcmu.Encode(SyntheticSpeech.Samples(duration, Pcmu.SampleRate, seed: 3));

    private static bool IsSpeech(ReceivedFrame frame) => frame.Event == "media" && SyntheticSpeech.Rms(Pcmu.Decode(frame.Payload())) > 1000;

    /// <summary>Sends audio as a real service would: 20 ms frames in real time.</summary>
    private static async Task SpeakPacedAsync(AgentConnection agent, byte[] audio, CancellationToken cancellationToken)
    {
        const int FrameBytes = 160;
        var start = agent.Now;
        for (var offset = 0; offset < audio.Length; offset += FrameBytes)
        {
            await agent.SendMediaAsync(audio[offset..Math.Min(offset + FrameBytes, audio.Length)], cancellationToken);
            var due = start + TimeSpan.FromMilliseconds(20 * ((offset / FrameBytes) + 1)) - agent.Now;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }
        }
    }
}
