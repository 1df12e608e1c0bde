using TelnyxAiService.Audio;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Providers;
using TelnyxAiService.Speech;
using static TelnyxAiService.Tests.Speech.PacedCallerAudio;

namespace TelnyxAiService.Tests.Speech;

public sealed class DeepgramReconnectTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Transcribe_ConnectionDroppedAndRetriesRefused_ReconnectsAndSendsTheAudioHeldMeanwhile()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(
            new()
            {
                Segments = ["First line.", "Second line here."],
                DropConnectionAfter = TimeSpan.FromMilliseconds(1500),
                UnavailableHandshakes = new HashSet<int> { 1, 2 },
            },
            Token);
        Part[] audio = [Say("First line"), Quiet(1850), Say("Second line here"), Quiet(1300)];

        var events = await DeepgramSpeechToTextTests.TranscribeAsync(emulator, AudioFormat.Pcmu8k, audio);

        Assert.Equal(
            ["First line.", "Second line here."],
            events.OfType<TranscriptUpdate>().Where(u => u.SpeechFinal).Select(u => u.Text));
        Assert.Equal(4, emulator.HandshakeCount);
        var connections = emulator.Connections;
        Assert.Equal(2, connections.Count);
        Assert.True(connections[0].Dropped);

        // The 100 + 200 + 400 ms of backoff is 35 frames; only the few frames in flight at the drop may be lost, or one
        // sent again when the far end had it but the send failed with the drop.
        var lost = PacedCallerAudio.TotalBytes(AudioFormat.Pcmu8k, audio) - connections.Sum(c => c.BytesReceived);
        Assert.InRange(lost, -AudioFormat.Pcmu8k.FrameBytes, 10 * AudioFormat.Pcmu8k.FrameBytes);
    }

    [Fact]
    public async Task Transcribe_ConnectionDroppedMidSentence_KeepsTheWordsHeardBeforeTheDrop()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(
            new()
            {
                ScriptForConnection = connection => connection == 0 ? ["I would like to book a table"] : ["for Monday evening"],
                DropConnectionAfter = TimeSpan.FromMilliseconds(1400),
            },
            Token);
        Part[] audio = [Quiet(200), Say("I would like to book a table for Monday evening"), Quiet(1500)];

        var events = await DeepgramSpeechToTextTests.TranscribeAsync(emulator, AudioFormat.Pcmu8k, audio);

        var finals = events.OfType<TranscriptUpdate>().Where(u => u.IsFinal).ToList();
        Assert.True(finals.Count >= 2, "the words before the drop are kept as a final segment");
        Assert.False(finals[0].SpeechFinal);
        Assert.StartsWith("I would", finals[0].Text, StringComparison.Ordinal);
        Assert.Equal("for Monday evening", finals[^1].Text);
        Assert.True(finals[^1].SpeechFinal);
    }

    [Fact]
    public async Task Transcribe_EveryReconnectRefused_ThrowsRetryableAfterFiveAttempts()
    {
        await using var emulator = await DeepgramEmulator.StartAsync(
            new()
            {
                DropConnectionAfter = TimeSpan.FromMilliseconds(200),
                UnavailableHandshakes = new HashSet<int> { 1, 2, 3, 4, 5 },
            },
            Token);

        var error = await Assert.ThrowsAsync<ProviderException>(
            () => DeepgramSpeechToTextTests.TranscribeAsync(emulator, AudioFormat.Pcmu8k, [Quiet(8000)]));

        Assert.True(error.Retryable);
        Assert.Contains("503", error.Message);
        Assert.Equal(6, emulator.HandshakeCount);
    }
}
