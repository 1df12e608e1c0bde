using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TelnyxAiService.Audio;
using TelnyxAiService.Conversation;
using TelnyxAiService.Security;
using TelnyxAiService.Telephony.Telnyx.MediaStream;

namespace TelnyxAiService.Tests.Telephony.MediaStream;

/// <summary>One media connection over a loopback WebSocket pair, the test playing Telnyx, on a fake clock.</summary>
public sealed class TelnyxMediaConnectionTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly Dictionary<string, long> _refused = [];
    private readonly MeterListener _listener = new();
    private FrameClock _clock = null!;
    private EdgeRefusals _refusals = null!;
    private TcpClient _serverTcp = null!;
    private TcpClient _clientTcp = null!;
    private WebSocket _server = null!;
    private WebSocket _telnyx = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meters)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var reason = (string)tags.ToArray().Single(t => t.Key == "reason").Value!;
            lock (_refused)
            {
                _refused[reason] = _refused.GetValueOrDefault(reason) + value;
            }
        });
        _listener.Start();
        _refusals = new EdgeRefusals(meters, NullLogger<EdgeRefusals>.Instance, _time);
        _clock = new FrameClock(_time);

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _clientTcp = new TcpClient();
        var accepting = listener.AcceptTcpClientAsync(Ct);
        await _clientTcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, Ct);
        _serverTcp = await accepting;
        _server = WebSocket.CreateFromStream(_serverTcp.GetStream(), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        _telnyx = WebSocket.CreateFromStream(_clientTcp.GetStream(), new WebSocketCreationOptions { KeepAliveInterval = TimeSpan.Zero });
    }

    public async ValueTask DisposeAsync()
    {
        _server.Dispose();
        _telnyx.Dispose();
        _serverTcp.Dispose();
        _clientTcp.Dispose();
        await _clock.DisposeAsync();
        _listener.Dispose();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task ReadStart_ConnectedThenStart_ReturnsStart()
    {
        var reading = TelnyxMediaConnection.ReadStartAsync(_server, _time, Ct);

        await SendAsync("""{"event":"connected","version":"1.0.0"}""");
        await SendAsync("""{"event":"start","sequence_number":"1","start":{"call_control_id":"v3:a","media_format":{"encoding":"PCMU","sample_rate":"8000","channels":"1"}},"stream_id":"s"}""");

        var start = await reading.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(AudioFormat.Pcmu8k, start?.Format);
    }

    [Fact]
    public async Task ReadStart_NoStartWithinFiveSeconds_ClosedAsPolicyViolation()
    {
        var reading = TelnyxMediaConnection.ReadStartAsync(_server, _time, Ct);
        await SendAsync("""{"event":"connected","version":"1.0.0"}""");

        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(reading.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await ReadUntilCloseAsync());
        Assert.Null(await reading.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task Connection_LateOrDuplicateMedia_DroppedSoAudioStaysInOrder()
    {
        var connection = Connection();
        var running = connection.RunAsync(Ct);

        await SendAsync(Media(2, 0x02));
        await SendAsync(Media(2, 0x22));
        await SendAsync(Media(1, 0x01));
        await SendAsync(Media(null, 0x0A));
        await SendAsync(Media(3, 0x03));
        await SendAsync("""{"event":"stop","sequence_number":"4","stop":{}}""");

        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ReadUntilCloseAsync());
        await running.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var heard = new List<byte>();
        await foreach (var frame in connection.CallerAudio.ReadAllAsync(Ct))
        {
            heard.Add(frame.Payload.Span[0]);
        }

        Assert.Equal([0x02, 0x0A, 0x03], heard);
        Assert.Equal(2, Refused("media out of order"));
        Assert.True(connection.Stopped);
    }

    [Fact]
    public async Task Connection_BinaryAndMalformedFrames_SkippedAndCounted()
    {
        var connection = Connection();
        var running = connection.RunAsync(Ct);

        await _telnyx.SendAsync(new byte[] { 0xde, 0xad, 0xbe, 0xef }, WebSocketMessageType.Binary, true, Ct);
        await SendAsync("this is not JSON at all {");
        await SendAsync("""{"event":"media","media":{"payload":"@@not base64@@"}}""");
        await SendAsync("""{"event":"dtmf","dtmf":{"digit":"7"}}""");

        Assert.Equal(new DigitReceived("7"), await connection.Signals.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal((1, 2), (Refused("binary frame"), Refused("malformed frame")));
        Assert.Equal(WebSocketState.Open, _telnyx.State);
        await SendAsync("""{"event":"stop"}""");
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ReadUntilCloseAsync());
        await running.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task Connection_FrameOverLimit_ClosedAsTooBig()
    {
        var connection = Connection();
        var running = connection.RunAsync(Ct);
        var atLimit = """{"event":"dtmf","dtmf":{"digit":"1"},"pad":""}""";
        atLimit = atLimit.Insert(atLimit.Length - 2, new string('x', TelnyxMediaConnection.MaxFrameBytes - atLimit.Length));

        await SendAsync(atLimit);
        Assert.Equal(new DigitReceived("1"), await connection.Signals.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct));
        await SendAsync(atLimit + " ");

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await ReadUntilCloseAsync());
        await running.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.False(connection.Stopped);
        Assert.Equal(1, Refused("frame too big"));
    }

    private TelnyxMediaConnection Connection() =>
        new(_server, AudioFormat.Pcmu8k, "call-1", _clock, _time, _refusals, NullLogger.Instance);

    private long Refused(string reason)
    {
        lock (_refused)
        {
            return _refused.GetValueOrDefault(reason);
        }
    }

    private static string Media(long? sequence, byte fill)
    {
        var payload = Convert.ToBase64String(Enumerable.Repeat(fill, 160).ToArray());
        var number = sequence is { } n ? $"\"sequence_number\":\"{n}\"," : "";
        return $$$"""{"event":"media",{{{number}}}"media":{"track":"inbound","payload":"{{{payload}}}"}}""";
    }

    private Task SendAsync(string text) => _telnyx.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, Ct);

    /// <summary>Reads what the service sends until its close frame, answers it, and returns its status.</summary>
    private async Task<WebSocketCloseStatus?> ReadUntilCloseAsync()
    {
        var buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while ((await _telnyx.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
        {
        }

        await _telnyx.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        return _telnyx.CloseStatus;
    }
}
