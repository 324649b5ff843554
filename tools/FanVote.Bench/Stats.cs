using System.Globalization;

namespace FanVote.Bench;

/// <summary>One measured run: count, elapsed time and per-operation latencies.</summary>
public sealed record RunResult(string Name, long Messages, TimeSpan Elapsed, double[] LatenciesMs)
{
    public double PerSecond => Messages / Elapsed.TotalSeconds;

    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0)
        {
            return double.NaN;
        }

        var sorted = LatenciesMs.Order().ToArray();
        var i = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(i, 0, sorted.Length - 1)];
    }

    public string Row() => string.Create(
        CultureInfo.InvariantCulture,
        $"| {Name,-44} | {Messages,10:N0} | {Elapsed.TotalSeconds,8:F2} | {PerSecond,12:N0} | {Percentile(50),8:F2} | {Percentile(99),8:F2} |");

    public static string Header() =>
        "| run                                          |   messages |      s   |     msgs/s   | p50 ms   | p99 ms   |\n" +
        "|----------------------------------------------|-----------:|---------:|-------------:|---------:|---------:|";
}
