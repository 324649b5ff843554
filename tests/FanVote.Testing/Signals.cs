using System.Diagnostics;
using System.Globalization;

namespace FanVote.Testing;

/// <summary>kill -SIGNAL PID, for the test fixtures that pause a process (SIGSTOP: it keeps its connections and answers nothing, as a hung host looks) and resume it.</summary>
public static class Signals
{
    public static async Task SendAsync(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} exited with {kill.ExitCode}");
        }
    }
}
