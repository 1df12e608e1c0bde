using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Storage;
using TelnyxAiService.Tests.TestHost;
using static TelnyxAiService.Tests.Conversation.MediaStreamCallTests;

namespace TelnyxAiService.Tests.Conversation;

/// <summary>
/// /stream/media against connections Telnyx would never make: no or a wrong token, a start for another call, and
/// garbage frames on a real call's stream. The test plays Telnyx itself over a raw WebSocket.
/// </summary>
public sealed class MediaStreamRobustnessTests
{
    private const string Line = "I would like to book a cleaning";
    private const string Answer = "Monday at ten works.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Stream_WrongOrMissingToken_HandshakeRejectedWith401()
    {
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions(), Ct);
        var (streamUrl, _) = await DialAsync(harness);
        var endpoint = new Uri(harness.BaseUrl, "/stream/media").ToString().Replace("http://", "ws://", StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Unauthorized, await HandshakeStatusAsync(new Uri(endpoint + "?token=wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, await HandshakeStatusAsync(new Uri(endpoint)));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeStatusAsync(streamUrl));
    }

    [Fact]
    public async Task Stream_StartForAnotherCall_ClosedWithPolicyViolation()
    {
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions(), Ct);
        var (streamUrl, _) = await DialAsync(harness);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(streamUrl, Ct);

        await SendTextAsync(socket, Connected());
        await SendTextAsync(socket, Start("v3:someone-else", "PCMU", 8000));

        var buffer = new byte[64 * 1024];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
    }

    [Fact]
    public async Task Stream_GarbageFrames_SurvivedAndCallerAnswered()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions
            {
                Anthropic = new AnthropicEmulatorOptions { Reply = _ => new ScriptedReply(Answer) },
                Deepgram = Segments(Line),
            },
            Ct);
        var (streamUrl, callControlId) = await DialAsync(harness);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(streamUrl, Ct);
        var agentFrames = 0;
        var receiving = ReceiveAsync(socket, () => Interlocked.Increment(ref agentFrames));

        await SendTextAsync(socket, Connected());
        await SendTextAsync(socket, Start(callControlId, "PCMU", 8000));
        await SendTextAsync(socket, "this is not JSON at all {");
        await SendTextAsync(socket, """{"event":"media","sequence_number":"3","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"@@not base64@@"}}""");
        await SendTextAsync(socket, """{"event":"media","sequence_number":"4"}""");
        await SendTextAsync(socket, """{"event":"no_such_event","sequence_number":"5","stream_id":"x"}""");
        await SendTextAsync(socket, """["an","array"]""");
        await SendTextAsync(socket, $$$"""{"event":"media","media":{"track":"inbound","payload":"{{{new string('!', 60 * 1024)}}}"}}""");
        await SendTextAsync(socket, """{"event":"mark","mark":{"name":"\ud800"}}""");
        await socket.SendAsync(new byte[] { 0xde, 0xad, 0xbe, 0xef }, WebSocketMessageType.Binary, true, Ct);

        // Then real audio, paced like Telnyx: silence, the caller's line, silence while the agent answers.
        var silence = SyntheticSpeech.Silence(TimeSpan.FromSeconds(3), EmulatedAudioFormat.Pcmu8k);
        var speech = SyntheticSpeech.For(Line, EmulatedAudioFormat.Pcmu8k);
        var audio = (byte[])[.. silence, .. speech, .. silence[..(160 - (speech.Length % 160))], .. silence, .. silence];
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        for (var (offset, n) = (0, 0); offset < audio.Length; offset += 160, n++)
        {
            await pace.WaitForNextTickAsync(Ct);
            var payload = Convert.ToBase64String(audio, offset, 160);
            await SendTextAsync(socket, $$$"""{"event":"media","sequence_number":"{{{n + 10}}}","media":{"track":"inbound","chunk":"{{{n + 1}}}","timestamp":"{{{n * 20}}}","payload":"{{{payload}}}"}}""");
        }

        Assert.Equal(WebSocketState.Open, socket.State);
        await SendTextAsync(socket, """{"event":"stop","sequence_number":"9999","stop":{},"stream_id":"x"}""");
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, Ct);
        await receiving.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        // The greeting and the answer, each in full: the caller was heard and answered despite the garbage.
        Assert.Equal(Line, harness.Anthropic.Requests[^1].Messages[^1].Text);
        Assert.Equal(StreamCalls.FramesOf(Greeting) + StreamCalls.FramesOf(Answer), agentFrames);
    }

    [Fact]
    public async Task Stream_SecondConnectionWhileFirstLive_RefusedWith409AndCallUntouched()
    {
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions(), Ct);
        var (streamUrl, callControlId) = await DialAsync(harness);
        using var first = await StartStreamAsync(streamUrl, callControlId);
        await Wait.UntilAsync(() => harness.Deepgram.HandshakeCount == 1, "the first stream's speech-to-text session");

        Assert.Equal(HttpStatusCode.Conflict, await HandshakeStatusAsync(streamUrl));

        await SendTextAsync(first, """{"event":"dtmf","dtmf":{"digit":"1"}}""");
        await SendTextAsync(first, """{"event":"stop","stop":{}}""");
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ReadUntilCloseAsync(first));
        Assert.Equal(1, harness.Deepgram.HandshakeCount);
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "hangup");
    }

    [Fact]
    public async Task Stream_FirstConnectionEndsBeforeStart_ClaimReleasedForTheNext()
    {
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions(), Ct);
        var (streamUrl, callControlId) = await DialAsync(harness);
        using (var first = new ClientWebSocket())
        {
            await first.ConnectAsync(streamUrl, Ct);
            await first.CloseAsync(WebSocketCloseStatus.NormalClosure, null, Ct);
        }

        using var second = await ConnectWhenFreeAsync(streamUrl);
        await SendTextAsync(second, Start(callControlId, "PCMU", 8000));
        await Wait.UntilAsync(() => harness.Deepgram.HandshakeCount == 1, "the second stream's speech-to-text session");
        await SendTextAsync(second, """{"event":"stop","stop":{}}""");
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ReadUntilCloseAsync(second));
    }

    [Fact]
    public async Task Stream_HostileFramesOnOneCall_OtherCallUnaffected()
    {
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions(), Ct);
        var (hostileUrl, hostileCall) = await DialAsync(harness);
        var (calmUrl, calmCall) = await DialAsync(harness);
        using var hostile = await StartStreamAsync(hostileUrl, hostileCall);
        using var calm = await StartStreamAsync(calmUrl, calmCall);
        await Wait.UntilAsync(() => harness.Deepgram.HandshakeCount == 2, "both speech-to-text sessions");

        await SendTextAsync(hostile, "this is not JSON at all {");
        await SendTextAsync(hostile, """{"event":"media","sequence_number":"2","media":{"payload":"@@"}}""");
        await SendTextAsync(hostile, """{"event":"error","payload":{"code":"1","title":"forged\nline","detail":"\u2028"}}""");
        await hostile.SendAsync(new byte[] { 0xde, 0xad }, WebSocketMessageType.Binary, true, Ct);
        await SendTextAsync(hostile, new string('x', 65 * 1024));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await ReadUntilCloseAsync(hostile));
        await harness.Telnyx.WaitForCommandAsync(c => c.Action == "hangup" && c.CallControlId == hostileCall, TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(WebSocketState.Open, calm.State);
        await SendTextAsync(calm, """{"event":"stop","stop":{}}""");
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ReadUntilCloseAsync(calm));
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "hangup" && c.CallControlId == calmCall);
    }

    [Fact]
    public async Task Stream_TransportThrowsMidCall_SessionEndsWithStoredReasonAndOneLog()
    {
        var log = new ThrowingLogs(throwOn: "LogStreamError");
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions { Services = services => services.AddSingleton<ILoggerProvider>(log) },
            Ct);
        var (streamUrl, callControlId) = await DialAsync(harness);
        using var socket = await StartStreamAsync(streamUrl, callControlId);
        await Wait.UntilAsync(() => harness.Deepgram.HandshakeCount == 1, "the speech-to-text session");

        await SendTextAsync(socket, """{"event":"error","payload":{"code":"1","title":"t","detail":"d"}}""");

        await harness.Telnyx.WaitForCommandAsync(c => c.Action == "hangup" && c.CallControlId == callControlId, TimeSpan.FromSeconds(10), Ct);
        var store = harness.Services.GetRequiredService<ICallStore>();
        CallRecord? call = null;
        await Wait.UntilAsync(async () => (call = await store.FindByCallControlIdAsync(callControlId, Ct))?.EndReason is not null, "the stored end");
        Assert.Equal("stream_failed", call!.EndReason);
        Assert.Equal(1, log.Count("LogStreamCrashed"));
    }

    private static async Task<ClientWebSocket> StartStreamAsync(Uri streamUrl, string callControlId)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(streamUrl, Ct);
        await SendTextAsync(socket, Connected());
        await SendTextAsync(socket, Start(callControlId, "PCMU", 8000));
        return socket;
    }

    /// <summary>Connects, retrying while the service still refuses (the previous connection's claim not yet released).</summary>
    private static async Task<ClientWebSocket> ConnectWhenFreeAsync(Uri streamUrl)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (true)
        {
            var socket = new ClientWebSocket();
            try
            {
                await socket.ConnectAsync(streamUrl, timeout.Token);
                return socket;
            }
            catch (WebSocketException)
            {
                socket.Dispose();
                await Task.Delay(25, timeout.Token);
            }
        }
    }

    /// <summary>Reads what the service sends until its close frame, answers it, and returns its status.</summary>
    private static async Task<WebSocketCloseStatus?> ReadUntilCloseAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
        {
        }

        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        return socket.CloseStatus;
    }

    /// <summary>Places a call with nobody on its media stream (no scripted caller): the stream URL and call id to play Telnyx with.</summary>
    private static async Task<(Uri StreamUrl, string CallControlId)> DialAsync(ServiceHarness harness)
    {
        var response = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111222", nombre = "Ana", saludo = Greeting }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var callControlId = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("call_control_id").GetString()!;
        var dial = await harness.Telnyx.WaitForCommandAsync(c => c.Action == "dial" && c.CallControlId == callControlId, TimeSpan.FromSeconds(10), Ct);
        return (new Uri(dial.Body.GetProperty("stream_url").GetString()!), callControlId);
    }

    /// <summary>The HTTP status a WebSocket handshake gets (101 when it is accepted).</summary>
    internal static async Task<HttpStatusCode> HandshakeStatusAsync(Uri url)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(url, Ct);
        }
        catch (WebSocketException)
        {
        }

        return socket.HttpStatusCode;
    }

    /// <summary>Counts agent media frames and echoes marks at once, as a far end that plays instantly would.</summary>
    private static async Task ReceiveAsync(ClientWebSocket socket, Action agentFrame)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            using var frame = JsonDocument.Parse(buffer.AsMemory(0, result.Count));
            switch (frame.RootElement.GetProperty("event").GetString())
            {
                case "media":
                    Assert.Equal(160, Convert.FromBase64String(frame.RootElement.GetProperty("media").GetProperty("payload").GetString()!).Length);
                    agentFrame();

                    break;
                case "mark" when socket.State == WebSocketState.Open:
                    await SendTextAsync(socket, Encoding.UTF8.GetString(buffer, 0, result.Count));
                    break;
            }
        }
    }

    private static string Connected() => """{"event":"connected","version":"1.0.0"}""";

    private static string Start(string callControlId, string encoding, int sampleRate) =>
        $$$"""{"event":"start","sequence_number":"1","start":{"call_control_id":"{{{callControlId}}}","media_format":{"encoding":"{{{encoding}}}","sample_rate":{{{sampleRate}}},"channels":1}},"stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC"}""";

    private static readonly SemaphoreSlim Sending = new(1, 1);

    private static async Task SendTextAsync(ClientWebSocket socket, string text)
    {
        await Sending.WaitAsync(Ct);
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, Ct);
        }
        finally
        {
            Sending.Release();
        }
    }

    /// <summary>Counts log events by name, and throws from the one named, as a broken transport would.</summary>
    private sealed class ThrowingLogs(string throwOn) : ILoggerProvider, ILogger
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _events = new();

        public int Count(string eventName) => _events.Count(e => e == eventName);

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name is { } name)
            {
                _events.Enqueue(name);
            }

            if (eventId.Name == throwOn)
            {
                throw new InvalidOperationException("the transport broke");
            }
        }

        public void Dispose()
        {
        }
    }
}
