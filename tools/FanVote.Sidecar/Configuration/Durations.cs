using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;

namespace FanVote.Sidecar.Configuration;

/// <summary>
/// Duration strings as daprd accepts them: the SDK's "{h}h{m}m{s}s{ms}ms", Go durations ("10s", "1h30m",
/// "1.5s", "250ms"), ISO-8601 ("PT10S", "P1DT2H") with optional repetitions ("R5/PT10S").
/// </summary>
public static partial class Durations
{
    public static TimeSpan Parse(string value) =>
        TryParse(value, out var d) ? d : throw new FormatException($"'{value}' is not a duration (use e.g. 10s, 1h30m, 0h0m5s0ms or PT10S)");

    public static bool TryParse(string? value, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        value = value.Trim();
        if (value.StartsWith('P') || value.StartsWith("-P", StringComparison.Ordinal))
        {
            try
            {
                duration = XmlConvert.ToTimeSpan(value);
                return true;
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return TryParseGo(value, out duration);
    }

    /// <summary>Parses an optionally repeated ISO/Go/Dapr period: "R5/PT10S" → (10 s, 5).</summary>
    public static bool TryParsePeriod(string? value, out TimeSpan period, out int? repetitions)
    {
        period = TimeSpan.Zero;
        repetitions = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var m = RepeatPattern().Match(value.Trim());
        if (m.Success)
        {
            repetitions = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return TryParse(m.Groups[2].Value, out period);
        }

        return TryParse(value, out period);
    }

    /// <summary>dueTime/ttl may also be an absolute RFC3339 time; returns the delay from <paramref name="now"/>.</summary>
    public static bool TryParseDueTime(string? value, DateTimeOffset now, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        if (TryParse(value, out delay))
        {
            return true;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at))
        {
            delay = at - now;
            if (delay < TimeSpan.Zero)
            {
                delay = TimeSpan.Zero;
            }

            return true;
        }

        return false;
    }

    /// <summary>Formats as the Dapr SDK does: "0h0m5s0ms".</summary>
    public static string ToDaprFormat(TimeSpan t) =>
        string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}h{t.Minutes}m{t.Seconds}s{t.Milliseconds}ms");

    private static bool TryParseGo(string value, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (value == "0")
        {
            return true;
        }

        var sign = 1;
        var rest = value;
        if (rest.StartsWith('-'))
        {
            sign = -1;
            rest = rest[1..];
        }
        else if (rest.StartsWith('+'))
        {
            rest = rest[1..];
        }

        var matches = GoPart().Matches(rest);
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != rest)
        {
            return false;
        }

        double ticks = 0;
        foreach (Match m in matches)
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            ticks += m.Groups[2].Value switch
            {
                "h" => n * TimeSpan.TicksPerHour,
                "m" => n * TimeSpan.TicksPerMinute,
                "s" => n * TimeSpan.TicksPerSecond,
                "ms" => n * TimeSpan.TicksPerMillisecond,
                "us" or "µs" or "μs" => n * 10,
                "ns" => n / 100,
                _ => double.NaN,
            };
        }

        if (double.IsNaN(ticks))
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)(sign * ticks));
        return true;
    }

    [GeneratedRegex(@"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|h|m|s)")]
    private static partial Regex GoPart();

    [GeneratedRegex(@"^R(\d+)/(.+)$")]
    private static partial Regex RepeatPattern();
}
