using TelnyxAiService.Providers;
using TelnyxAiService.Telephony;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>
/// Telnyx Call Control for the commands a conversation sends (hangup, transfer, speak): each is recorded, and handed to
/// <paramref name="record"/> when given (a timeline's log); all fail when told to.
/// </summary>
internal sealed class RecordingCallControl(Action<string>? record = null, bool fail = false) : ICallControl
{
    public List<string> Commands { get; } = [];

    public Task HangupAsync(string callControlId, CancellationToken cancellationToken) => Record($"hangup {callControlId}");

    public Task TransferAsync(string callControlId, string to, CancellationToken cancellationToken) => Record($"transfer {callControlId} {to}");

    public Task SpeakAsync(string callControlId, string text, string language, CancellationToken cancellationToken) => Record($"speak {text}");

    public Task<DialResult> DialAsync(DialRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task AnswerAsync(string callControlId, string callId, MediaStreamRequest? stream, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task StartStreamingAsync(string callControlId, MediaStreamRequest stream, string commandId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task StartTranscriptionAsync(string callControlId, string language, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task StopTranscriptionAsync(string callControlId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task StartPlaybackAsync(string callControlId, Uri audioUrl, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<CallState> GetCallAsync(string callControlId, CancellationToken cancellationToken) => throw new NotSupportedException();

    private Task Record(string command)
    {
        Commands.Add(command);
        record?.Invoke(command);
        return fail ? Task.FromException(new ProviderException("telnyx", "refused", retryable: false)) : Task.CompletedTask;
    }
}
