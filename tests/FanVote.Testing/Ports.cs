using System.Net;
using System.Net.Sockets;

namespace FanVote.Testing;

public static class Ports
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A loopback port that was free a moment ago and that this process has not handed out before.</summary>
    public static int Free()
    {
        lock (Handed)
        {
            while (true)
            {
                using var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                var port = ((IPEndPoint)l.LocalEndpoint).Port;
                l.Stop();
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
