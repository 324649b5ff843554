using System.Net;
using System.Net.Sockets;

namespace FanVote.Testing;

/// <summary>
/// Hands out loopback ports for the processes a test starts (Redis, PostgreSQL, sidecars, apps). A port handed out
/// stays reserved for the life of the test process, across every test process on the machine: a test that kills an
/// app and restarts it on the same port must find that port still free, even though nothing listens on it while
/// the app is down and another test assembly (xunit runs them in parallel processes) is picking ports just then.
/// </summary>
public static class Ports
{
    // Below Linux's ephemeral range (ip_local_port_range, 32768-60999 by default): the kernel never hands these to an
    // outgoing connection, so a port picked here cannot be taken by some test's Redis or HTTP client before the
    // process it is meant for binds it (port 0 picks from the ephemeral range, where that happened under load).
    private const int Lowest = 20_000;
    private const int Highest = 32_000;

    // One lock file per reserved port. The stream is opened with FileShare.None, which .NET on Unix takes as an
    // exclusive advisory lock (flock LOCK_EX|LOCK_NB): a second process asking for the same port fails to open it.
    // The kernel drops the lock when the process exits however it ends, so a crashed test run reserves nothing.
    private static readonly string LockDirectory = Path.Combine(Path.GetTempPath(), "fanvote-test-ports");
    private static readonly Dictionary<int, FileStream> Reserved = [];

    /// <summary>
    /// A loopback port that was free a moment ago, that this process has not handed out before, and that no other
    /// live test process has reserved.
    /// </summary>
    public static int Free()
    {
        lock (Reserved)
        {
            Directory.CreateDirectory(LockDirectory);
            while (true)
            {
                var port = Random.Shared.Next(Lowest, Highest);
                if (Reserved.ContainsKey(port) || TryReserve(port) is not { } reservation)
                {
                    continue; // ours already, or another test process's
                }

                if (!IsFree(port))
                {
                    reservation.Dispose();
                    continue; // in use by something that does not reserve (a process outside the tests)
                }

                Reserved.Add(port, reservation);
                return port;
            }
        }
    }

    /// <summary>The file whose lock reserves <paramref name="port"/> (for tests of this class).</summary>
    public static string LockFile(int port) => Path.Combine(LockDirectory, $"{port}.lock");

    private static FileStream? TryReserve(int port)
    {
        try
        {
            return new FileStream(
                LockFile(port), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None,
                bufferSize: 1, FileOptions.None);
        }
        catch (IOException)
        {
            return null; // locked by another live process
        }
        catch (UnauthorizedAccessException)
        {
            return null; // a file left by another user: not ours to use
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var l = new TcpListener(IPAddress.Loopback, port);
            l.Start();
            l.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
