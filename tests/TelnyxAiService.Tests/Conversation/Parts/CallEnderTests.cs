using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TelnyxAiService.Conversation;

namespace TelnyxAiService.Tests.Conversation.Parts;

public sealed class CallEnderTests
{
    private const string TransferTo = "+15550001111";
    private readonly CallSession _session = Parts.Session(new FakeTimeProvider());

    [Fact]
    public async Task AfterAsync_AgentAskedToTransferAndHangUp_TransferWins()
    {
        var callControl = new RecordingCallControl();
        using var reply = Reply();
        reply.EndCallAfter(CallEndReason.Transferred);
        reply.EndCallAfter(CallEndReason.AgentHangup);

        Assert.True(await new CallEnder(_session, callControl, TransferTo, NullLogger.Instance).AfterAsync(reply));

        Assert.Equal([$"transfer cc-1 {TransferTo}"], callControl.Commands);
        Assert.Equal(CallEndReason.Transferred, await _session.Ended);
    }

    [Fact]
    public async Task AfterAsync_TelnyxRefusesTheHangup_SessionEndsAnyway()
    {
        var callControl = new RecordingCallControl(fail: true);
        using var reply = Reply();
        reply.EndCallAfter(CallEndReason.IdleTimeout);

        Assert.True(await new CallEnder(_session, callControl, TransferTo, NullLogger.Instance).AfterAsync(reply));

        Assert.Equal(["hangup cc-1"], callControl.Commands);
        Assert.Equal(CallEndReason.IdleTimeout, await _session.Ended);
    }

    [Fact]
    public async Task AfterAsync_ReplyDoesNotEndTheCall_CallGoesOn()
    {
        var callControl = new RecordingCallControl();
        using var reply = Reply();

        Assert.False(await new CallEnder(_session, callControl, TransferTo, NullLogger.Instance).AfterAsync(reply));

        Assert.Empty(callControl.Commands);
        Assert.False(_session.Ended.IsCompleted);
    }

    private static Reply Reply() => new(1, "thanks, bye", null, speculative: false, CancellationToken.None);
}
