using TelnyxAiService.Llm;
using TelnyxAiService.Speech;
using TelnyxAiService.Telephony;
using TelnyxAiService.Voice;

namespace TelnyxAiService.Conversation;

/// <summary>What every stream conversation needs; one instance for the service.</summary>
public sealed class ConversationServices(
    ISpeechToText speechToText,
    ITextToSpeech textToSpeech,
    IAgent agent,
    ICallControl callControl,
    ConversationOptions options,
    CallStats stats,
    TimeProvider time,
    ILogger<StreamConversation> logger)
{
    public ISpeechToText SpeechToText => speechToText;

    public ITextToSpeech TextToSpeech => textToSpeech;

    public IAgent Agent => agent;

    public ICallControl CallControl => callControl;

    public ConversationOptions Options => options;

    public CallStats Stats => stats;

    public TimeProvider Time => time;

    public ILogger Logger => logger;

    /// <summary>Runs the conversation on a newly attached media stream until it stops or the call ends.</summary>
    public async Task ConverseAsync(CallSession session, ICallAudio audio, CancellationToken cancellationToken)
    {
        var conversation = new StreamConversation(session, audio, this);
        session.SetStream(conversation);
        try
        {
            await conversation.RunAsync(cancellationToken);
        }
        finally
        {
            session.SetStream(null);
        }
    }
}
