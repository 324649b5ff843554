using System.Net;
using System.Net.Sockets;

namespace FanVote.Testing;

public static class Ports
{
    // Below Linux's ephemeral range (ip_local_port_range, 32768-60999 by default): the kernel never hands these to an
    // outgoing connection, so a port picked here cannot be taken by some test's Redis or HTTP client before the
    // process it is meant for binds it (port 0 picks from the ephemeral range, where that happened under load).
    private const int Lowest = 20_000;
    private const int Highest = 32_000;

    private static readonly HashSet<int> Handed = [];

    /// <summary>A loopback port that was free a moment ago and that this process has not handed out before.</summary>
    public static int Free()
    {
        lock (Handed)
        {
            while (true)
            {
                var port = Random.Shared.Next(Lowest, Highest);
                if (Handed.Contains(port))
                {
                    continue;
                }

                try
                {
                    using var l = new TcpListener(IPAddress.Loopback, port);
                    l.Start();
                    l.Stop();
                }
                catch (SocketException)
                {
                    continue; // in use (another test process's service): try another
                }

                Handed.Add(port);
                return port;
            }
        }
    }
}
