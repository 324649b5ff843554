using System.Globalization;
using System.Text.Json;

namespace FanVote.Bench;

/// <summary>
/// CPU time used by each process of a running `./fanvote up` (every app with its children, every sidecar, Redis,
/// PostgreSQL), read from /proc. CPU per vote is what says where the time goes; it is also far steadier than
/// throughput on a machine that is doing other things.
/// </summary>
public sealed class CpuMeter
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux this runs on
    private readonly Dictionary<string, int[]> _roots = new(StringComparer.Ordinal);

    public CpuMeter(string runDir)
    {
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "run.json")));
        foreach (var app in run.RootElement.EnumerateArray())
        {
            var id = app.GetProperty("AppId").GetString()!;
            _roots["app:" + id] = [app.GetProperty("AppPid").GetInt32()];
            _roots["sidecar:" + id] = [app.GetProperty("SidecarPid").GetInt32()];
        }

        var infra = Path.Combine(runDir, "infra");
        if (ReadPid(Path.Combine(infra, "redis", "redis.pid")) is { } redis)
        {
            _roots["redis"] = [redis];
        }

        if (ReadPid(Path.Combine(infra, "pg", "data", "postmaster.pid")) is { } pg)
        {
            _roots["postgres"] = [pg];
        }
    }

    /// <summary>Also counts <paramref name="pid"/> and its descendants, as <paramref name="group"/> (a process the benchmark started).</summary>
    public void Track(string group, int pid) => _roots[group] = [pid];

    /// <summary>Stops counting <paramref name="group"/>.</summary>
    public void Forget(string group) => _roots.Remove(group);

    /// <summary>CPU seconds used so far by each group (a group is its root processes and all their descendants).</summary>
    public Dictionary<string, double> Snapshot()
    {
        var procs = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                procs[pid] = (int.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
            }
        }

        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (group, roots) in _roots)
        {
            var ticks = procs.Where(p => roots.Any(r => IsDescendant(procs, p.Key, r))).Sum(p => p.Value.Ticks);
            result[group] = ticks / TicksPerSecond;
        }

        return result;
    }

    /// <summary>Microseconds of CPU per vote for each group between two snapshots, largest first (groups that hardly moved are left out).</summary>
    public static IEnumerable<(string Group, double MicrosPerVote)> PerVote(Dictionary<string, double> before, Dictionary<string, double> after, long votes) =>
        after.Select(a => (a.Key, Seconds: a.Value - before.GetValueOrDefault(a.Key)))
            .Where(x => x.Seconds > 0.02 && votes > 0)
            .Select(x => (x.Key, x.Seconds * 1e6 / votes))
            .OrderByDescending(x => x.Item2);

    private static bool IsDescendant(Dictionary<int, (int Parent, long Ticks)> procs, int pid, int root)
    {
        for (var p = pid; p > 1 && procs.ContainsKey(p); p = procs[p].Parent)
        {
            if (p == root)
            {
                return true;
            }
        }

        return false;
    }

    private static int? ReadPid(string file) =>
        File.Exists(file) && int.TryParse(File.ReadLines(file).FirstOrDefault()?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
}
