using TelnyxAiService.Conversation;
using TelnyxAiService.Llm;

namespace TelnyxAiService.Tests.Conversation;

public sealed class CallSessionStreamTests
{
    [Fact]
    public void Session_StreamAttachedTwice_SecondRefusedUntilDetached()
    {
        using var session = new CallSession("call-1", "+34600111222", new CallBrief("Ana", "", "en", ""), "Hello", useMediaStream: true, DateTimeOffset.UnixEpoch);

        Assert.True(session.TryAttachStream());
        Assert.False(session.TryAttachStream());
        session.DetachStream();
        Assert.True(session.TryAttachStream());
    }
}
