using System.Net;
using System.Net.Sockets;

namespace TelnyxAiService.Tests.TestHost;

/// <summary>
/// A loopback port held bound but not listening: connecting to it is refused for as long as it is held, and no other
/// test's listener can take it meanwhile (a port found free and let go can be).
/// </summary>
public sealed class ClosedPort : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public ClosedPort() => _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    public void Dispose() => _socket.Dispose();
}
