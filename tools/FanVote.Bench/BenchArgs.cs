using System.Globalization;

namespace FanVote.Bench;

/// <summary>--name value pairs; every benchmark reads what it needs with a default.</summary>
public sealed class BenchArgs(Dictionary<string, string> values)
{
    public static BenchArgs Parse(IEnumerable<string> args)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        string? key = null;
        foreach (var a in args)
        {
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                key = a[2..];
                d[key] = "true";
            }
            else if (key is not null)
            {
                d[key] = a;
                key = null;
            }
        }

        return new BenchArgs(d);
    }

    public string Get(string name, string fallback) => values.TryGetValue(name, out var v) ? v : fallback;

    public string Require(string name) =>
        values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");

    /// <summary>A comma-separated list (e.g. --app-env A=1,B=2), empty when not given.</summary>
    public IReadOnlyList<string> All(string name) =>
        values.TryGetValue(name, out var v) ? v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];

    public int Number(string name, int fallback) =>
        values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
