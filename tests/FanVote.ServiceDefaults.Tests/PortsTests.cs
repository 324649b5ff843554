using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FanVote.Testing;

namespace FanVote.ServiceDefaults.Tests;

/// <summary>
/// The port helper every test rig uses: a port it hands out stays reserved across test processes while nothing
/// listens on it (the window in which a killed app is down and a parallel test assembly picks ports).
/// </summary>
public sealed class PortsTests
{
    [Fact]
    public async Task HandedOutPort_IsReservedAgainstOtherProcesses_WhileNothingListensOnIt()
    {
        var port = Ports.Free();

        // Nothing listens on it: a plain bind would succeed, which is why a bind probe alone is not a reservation.
        using (var probe = new TcpListener(IPAddress.Loopback, port))
        {
            probe.Start();
            probe.Stop();
        }

        // Another process asking for the same reservation (flock(1) takes the same kind of lock .NET takes) is refused.
        var (exit, stderr) = await RunAsync("flock", "--nonblock", "--conflict-exit-code", "75", Ports.LockFile(port), "true");
        Assert.True(exit == 75, $"another process got port {port}'s reservation (flock exit {exit}, stderr: {stderr})");
    }

    [Fact]
    public async Task PortReservedByAnotherProcess_IsNeverHandedOut()
    {
        // A second process holds the reservations of a whole block of ports; this process must pick around them.
        const int first = 20_000;
        const int count = 40;
        var dir = Path.GetDirectoryName(Ports.LockFile(first))!;
        Directory.CreateDirectory(dir);
        var script = string.Join(
            " ; ",
            Enumerable.Range(first, count).Select(p => string.Create(CultureInfo.InvariantCulture, $"exec {100 + p - first}>>{Ports.LockFile(p)} && flock -n {100 + p - first} || echo busy {p}"))) +
            " ; echo held ; sleep 600";
        using var holder = Process.Start(new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true })!;
        try
        {
            var held = new List<int>();
            string? line;
            while ((line = await holder.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken)) is not null && line != "held")
            {
                Assert.StartsWith("busy ", line); // a port of the block this process (or another test) holds already
            }

            Assert.True(line == "held", "the holder process ended before it took its locks");
            var handed = Enumerable.Range(0, 2000).Select(_ => Ports.Free()).ToList();
            Assert.Equal(handed.Count, handed.Distinct().Count());
            var inBlock = handed.Where(p => p is >= first and < first + count).ToList();
            Assert.True(inBlock.Count == 0, $"handed out ports another live process reserved: {string.Join(", ", inBlock)}");
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
        }
    }

    private static async Task<(int Exit, string Stderr)> RunAsync(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var stderr = await p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (p.ExitCode, stderr);
    }
}
