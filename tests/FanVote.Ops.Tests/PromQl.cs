using System.Text.RegularExpressions;

namespace FanVote.Ops.Tests;

/// <summary>
/// Just enough PromQL reading to find which series an expression selects: metric names (recording rules have a ':'),
/// and for each selector the label names it matches on. Not a parser: it removes strings, ranges, grouping clauses and
/// Grafana variables, then what is left of identifiers that are not functions or keywords are metric names.
/// </summary>
internal static partial class PromQl
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "inf", "nan", "Inf", "NaN",
    };

    /// <summary>Every selector of <paramref name="expr"/>: metric name and the label names of its matchers.</summary>
    public static IReadOnlyList<(string Metric, IReadOnlyList<string> Labels)> Selectors(string expr)
    {
        var e = GrafanaVariable().Replace(expr, "5m");
        var found = new List<(string, IReadOnlyList<string>)>();

        // Selectors with matchers, before the strings inside them go.
        e = SelectorWithMatchers().Replace(e, m =>
        {
            var labels = MatcherLabel().Matches(m.Groups["matchers"].Value).Select(l => l.Groups[1].Value).ToList();
            if (m.Groups["name"].Success && !Keywords.Contains(m.Groups["name"].Value))
            {
                found.Add((m.Groups["name"].Value, labels));
                return " ";
            }

            var nameMatcher = labels.Contains("__name__");
            Assert.False(nameMatcher, $"a selector by __name__ cannot be checked against the metric inventory: {expr}");
            return " ";
        });
        e = StringLiteral().Replace(e, " ");
        e = RangeOrSubquery().Replace(e, " ");
        e = Grouping().Replace(e, " ");
        foreach (Match m in Identifier().Matches(e))
        {
            var name = m.Value;
            var rest = e.AsSpan(m.Index + m.Length).TrimStart();
            if (Keywords.Contains(name) || (rest.Length > 0 && rest[0] == '('))
            {
                continue; // keyword or function
            }

            found.Add((name, []));
        }

        return found;
    }

    [GeneratedRegex(@"\$\{?\w+\}?")]
    private static partial Regex GrafanaVariable();

    [GeneratedRegex("""(?<![\w:.])(?<name>[a-zA-Z_:][\w:]*)?\s*\{(?<matchers>(?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}""")]
    private static partial Regex SelectorWithMatchers();

    [GeneratedRegex(@"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*""(?:[^""\\]|\\.)*""")]
    private static partial Regex MatcherLabel();

    [GeneratedRegex("""("(?:[^"\\]|\\.)*")|('(?:[^'\\]|\\.)*')""")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex RangeOrSubquery();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w:.$])[a-zA-Z_:][\w:]*")]
    private static partial Regex Identifier();
}
