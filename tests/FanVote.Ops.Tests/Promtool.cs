using System.Diagnostics;

namespace FanVote.Ops.Tests;

/// <summary>Runs Prometheus's promtool (Debian's `prometheus` package; `./fanvote infra start` installs it).</summary>
internal static class Promtool
{
    public static string Path =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => System.IO.Path.Combine(d, "promtool"))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException(
            "promtool is not on PATH: install Prometheus (apt-get install -y prometheus, which `./fanvote infra start` does as root) and run the tests again");

    /// <summary>Exit code and everything promtool printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(Path) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start");
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (p.ExitCode, $"$ promtool {string.Join(' ', args)}\n{await stdout}{await stderr}");
    }
}
