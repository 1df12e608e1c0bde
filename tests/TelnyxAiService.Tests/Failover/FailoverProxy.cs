using System.Net;
using System.Net.Sockets;

namespace TelnyxAiService.Tests.Failover;

/// <summary>
/// A TCP load balancer in front of one instance's public address: each connection goes to the first backend that
/// accepts it, so once the primary is dead its webhooks (and streams) reach the standby, as a health-checked load
/// balancer or a floating address would send them.
/// </summary>
internal sealed class FailoverProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly int[] _backends;
    private readonly Task _accepting;

    public FailoverProxy(params int[] backends)
    {
        _backends = backends;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using (client)
        {
            foreach (var port in _backends)
            {
                using var backend = new TcpClient();
                try
                {
                    await backend.ConnectAsync(IPAddress.Loopback, port, _stopping.Token);
                }
                catch (SocketException)
                {
                    continue;
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                using var done = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                var up = PumpAsync(client.GetStream(), backend.GetStream(), done.Token);
                var down = PumpAsync(backend.GetStream(), client.GetStream(), done.Token);
                await Task.WhenAny(up, down);
                await done.CancelAsync();
                await Task.WhenAll(up, down);
                return;
            }
        }
    }

    private static async Task PumpAsync(NetworkStream from, NetworkStream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
