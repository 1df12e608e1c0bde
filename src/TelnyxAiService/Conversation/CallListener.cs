using System.Threading.Channels;
using TelnyxAiService.Audio;
using TelnyxAiService.Providers;
using TelnyxAiService.Speech;

namespace TelnyxAiService.Conversation;

/// <summary>
/// What the conversation loop hears, as its inputs: the caller's audio goes to the recogniser (dropping the oldest if it
/// falls behind) and through our voice detector; the recogniser's events and what comes back on the stream follow.
/// </summary>
internal sealed partial class CallListener(ICallAudio audio, ISpeechToText speechToText, TimeProvider time, string callId, ILogger logger, StreamConversation conversation)
{
    /// <summary>Runs until <paramref name="ct"/> is cancelled or the stream ends.</summary>
    public Task[] Start(CancellationToken ct)
    {
        var toRecogniser = Channel.CreateBounded<AudioFrame>(new BoundedChannelOptions(500) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
        return [ListenAsync(toRecogniser.Writer, ct), RecogniseAsync(toRecogniser.Reader, ct), ReadSignalsAsync(ct)];
    }

    private async Task ListenAsync(ChannelWriter<AudioFrame> toRecogniser, CancellationToken ct)
    {
        try
        {
            var detector = new VoiceActivityDetector(audio.Format.SampleRate);
            var audioTime = TimeSpan.Zero;
            await foreach (var frame in audio.CallerAudio.ReadAllAsync(ct))
            {
                toRecogniser.TryWrite(frame);
                audioTime += frame.Duration;
                switch (detector.Push(frame))
                {
                    case { Kind: VadEventKind.SpeechStart }:
                        conversation.Post(new StreamConversation.VoiceStarted());
                        break;
                    case { Kind: VadEventKind.SpeechEnd } end:
                        conversation.Post(new StreamConversation.VoiceEnded(time.GetUtcNow() - (audioTime - end.At)));
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            toRecogniser.TryComplete();
        }
    }

    private async Task RecogniseAsync(ChannelReader<AudioFrame> frames, CancellationToken ct)
    {
        try
        {
            await foreach (var speechEvent in speechToText.TranscribeAsync(audio.Format, frames.ReadAllAsync(ct), ct))
            {
                conversation.Post(new StreamConversation.Heard(speechEvent));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (ProviderException.Of(speechToText.GetType().Name, e, ct) is { } failure)
        {
            LogRecogniserLost(callId, failure.Provider, failure);
            conversation.Post(new StreamConversation.EarsLost());
        }
    }

    private async Task ReadSignalsAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var signal in audio.Signals.ReadAllAsync(ct))
            {
                conversation.Post(new StreamConversation.FromStream(signal));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        conversation.Post(new StreamConversation.FromStream(new StreamStopped()));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId}: speech recognition ({Provider}) was lost")]
    private partial void LogRecogniserLost(string callId, string provider, ProviderException exception);
}
