using System.Threading.Channels;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Conversation;

/// <summary>
/// Speaks one reply: the agent's streamed text is cut into sentences, each sentence is synthesised and streamed to
/// the call as it is made, followed by a mark so we learn when it has been heard. Audio waits at the reply's gate until
/// the conversation lets it be heard. When text-to-speech fails, Telnyx speak says the rest.
/// </summary>
internal sealed partial class ReplySpeaker(CallSession session, ICallAudio audio, ConversationServices services, Phrases phrases)
{
    private readonly CallSession _session = session;
    private readonly ICallAudio _audio = audio;
    private readonly ConversationServices _services = services;
    private readonly Phrases _phrases = phrases;
    private readonly ILogger _logger = services.Logger;
    private readonly TimeProvider _time = services.Time;

    /// <summary>The reply pipeline: agent text → sentences → speech → paced frames, each sentence followed by a mark.</summary>
    public async Task SpeakAsync(Reply reply, Action queued, CancellationToken ct)
    {
        var sentences = Channel.CreateBounded<string>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
        var writing = WriteSentencesAsync(reply, sentences.Writer, ct);
        try
        {
            await foreach (var sentence in sentences.Reader.ReadAllAsync(ct))
            {
                var index = reply.AddSentence(sentence);
                if (!await SynthesizeAsync(reply, sentence, ct))
                {
                    var rest = await RemainingAsync(sentences.Reader, writing, ct);
                    await reply.Opened.WaitAsync(ct);
                    await _services.CallControl.SpeakAsync(_session.CallControlId!, string.Join(' ', [sentence, .. rest]), _services.Options.Language, ct);
                    reply.SpokeByTelephony(rest);
                    break;
                }

                await _audio.SendMarkAsync(Reply.MarkName(reply.Id, index), ct);
            }

            await writing;
            queued();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (ProviderException.Of("telnyx", e, ct) is { } failure)
        {
            LogReplyFailed(_session.CallId, reply.Id, failure.Provider, failure);
            queued();
        }
    }

    private static async Task<List<string>> RemainingAsync(ChannelReader<string> reader, Task writing, CancellationToken ct)
    {
        await writing.WaitAsync(ct);
        var rest = new List<string>();
        while (reader.TryRead(out var sentence))
        {
            rest.Add(sentence);
        }

        return rest;
    }

    /// <summary>Streams one sentence's audio to the call; false when text-to-speech failed before any audio.</summary>
    private async Task<bool> SynthesizeAsync(Reply reply, string sentence, CancellationToken ct)
    {
        var any = false;
        try
        {
            await foreach (var chunk in _services.TextToSpeech.SynthesizeAsync(sentence, _audio.Format, ct))
            {
                reply.FirstAudio(_time.GetUtcNow());
                any = true;
                await reply.Opened.WaitAsync(ct);
                await _audio.SendAudioAsync(chunk, ct);
            }

            return true;
        }
        catch (Exception e) when (!any && ProviderException.Of(_services.TextToSpeech.GetType().Name, e, ct) is { } failure)
        {
            LogVoiceFailed(_session.CallId, failure.Provider, failure);
            return false;
        }
    }

    private async Task WriteSentencesAsync(Reply reply, ChannelWriter<string> sentences, CancellationToken ct)
    {
        try
        {
            var chunker = new SentenceChunker();
            if (reply.FixedText is { } fixedText)
            {
                foreach (var piece in chunker.Push(fixedText + " "))
                {
                    await sentences.WriteAsync(piece, ct);
                }
            }
            else
            {
                var request = _session.RequestFor(reply.CallerText!);
                await foreach (var output in _services.Agent.ReplyOrFallbackAsync(request, _phrases.Fallback, e => LogAgentFailed(_session.CallId, e.Provider, e), ct))
                {
                    switch (output)
                    {
                        case TextDelta delta:
                            reply.FirstToken(_time.GetUtcNow());
                            foreach (var piece in chunker.Push(delta.Text))
                            {
                                reply.FirstSentence(_time.GetUtcNow());
                                await sentences.WriteAsync(piece, ct);
                            }

                            break;
                        case EndCallRequested:
                            reply.EndCallAfter(CallEndReason.AgentHangup);
                            break;
                        case TransferRequested when _services.Options.TransferNumber is not null:
                            reply.EndCallAfter(CallEndReason.Transferred);
                            break;
                    }
                }
            }

            if (chunker.Flush() is { } rest)
            {
                reply.FirstSentence(_time.GetUtcNow());
                await sentences.WriteAsync(rest, ct);
            }
        }
        finally
        {
            sentences.TryComplete();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: the agent ({Provider}) failed, speaking the fallback line")]
    private partial void LogAgentFailed(string callId, string provider, ProviderException exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: text-to-speech ({Provider}) failed, Telnyx speak says the reply")]
    private partial void LogVoiceFailed(string callId, string provider, ProviderException exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: reply {Reply} failed ({Provider})")]
    private partial void LogReplyFailed(string callId, int reply, string provider, ProviderException exception);
}
