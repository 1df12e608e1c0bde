using TelnyxAiService.Telephony;

namespace TelnyxAiService.Tests.Conversation.Timeline;

/// <summary>Telnyx Call Control, for the few commands a stream conversation sends; each is written to the log.</summary>
internal sealed class FakeCallControl(TimelineLog log) : ICallControl
{
    public Task SpeakAsync(string callControlId, string text, string language, CancellationToken cancellationToken) => Command($"speak {text}");

    public Task TransferAsync(string callControlId, string to, CancellationToken cancellationToken) => Command($"transfer {to}");

    public Task HangupAsync(string callControlId, CancellationToken cancellationToken) => Command("hangup");

    public Task<DialResult> DialAsync(DialRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task AnswerAsync(string callControlId, string callId, MediaStreamRequest? stream, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task StartStreamingAsync(string callControlId, MediaStreamRequest stream, string commandId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task StartTranscriptionAsync(string callControlId, string language, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task StopTranscriptionAsync(string callControlId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task StartPlaybackAsync(string callControlId, Uri audioUrl, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<CallState> GetCallAsync(string callControlId, CancellationToken cancellationToken) => throw new NotSupportedException();

    private Task Command(string what)
    {
        log.Add(what);
        return Task.CompletedTask;
    }
}
