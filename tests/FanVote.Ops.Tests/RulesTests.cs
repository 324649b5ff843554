using System.Globalization;
using System.Text.RegularExpressions;
using FanVote.Testing;

namespace FanVote.Ops.Tests;

/// <summary>The rules read only what the apps export, every alert is unit-tested both ways, the capacities are the README's.</summary>
public sealed partial class RulesTests
{
    /// <summary>Series Prometheus makes itself, not an app.</summary>
    private static readonly HashSet<string> PrometheusOwn = new(StringComparer.Ordinal) { "up" };

    /// <summary>Labels a scrape adds (ops/prometheus/prometheus.yml), not the exporter.</summary>
    private static readonly HashSet<string> TargetLabels = new(StringComparer.Ordinal) { "job", "instance" };

    [Fact]
    public void Instruments_AreFoundInTheSources()
    {
        var names = MetricInventory.Declared.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);

        // A guard on the source reading itself: one instrument of each meter and each kind of declaration.
        Assert.Superset(new HashSet<string>(StringComparer.Ordinal)
        {
            "fanvote.ingress.votes_accepted", "fanvote.ingress.queue_depth", "fanvote.tally.write_latency", "fanvote.fraud.votes_suspect",
            "fanvote.fraud.model_version", "fanvote.results.open_streams", "fanvote.rewards.payouts",
        }, names);
        Assert.Equal("ms", MetricInventory.Declared.Single(i => i.Name == "fanvote.tally.write_latency").Unit);
    }

    [Fact]
    public async Task Inventory_NamesFollowTheExporter()
    {
        var exported = await MetricInventory.ExportedAsync();

        // The mapping ops/README.md documents, as the exporter really does it.
        Assert.Contains("fanvote_ingress_votes_accepted_total", exported.Series.Keys);
        Assert.Contains("fanvote_tally_write_latency_milliseconds_bucket", exported.Series.Keys);
        Assert.Contains("fanvote_fraud_scoring_latency_per_vote_microseconds_count", exported.Series.Keys);
        Assert.Contains("fanvote_results_open_streams", exported.Series.Keys);
        Assert.Contains("fanvote_ingress_queue_depth", exported.Series.Keys);
        Assert.Superset(new HashSet<string>(StringComparer.Ordinal) { "http_route", "http_response_status_code", "http_request_method" },
            exported.Series["http_server_request_duration_seconds_count"]);
    }

    [Fact]
    public async Task RuleExpressions_SelectOnlyExportedOrRecordedSeries()
    {
        var rules = OpsFiles.Rules();
        var recorded = rules.AllRules().Where(r => r.Record is not null).Select(r => r.Record!).ToHashSet(StringComparer.Ordinal);
        var problems = await UnknownSeriesAsync(rules.AllRules().Select(r => (r.Record ?? r.Alert ?? "?", r.Expr)), recorded);

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public async Task DashboardQueries_SelectOnlyExportedOrRecordedSeries()
    {
        var recorded = OpsFiles.Rules().AllRules().Where(r => r.Record is not null).Select(r => r.Record!).ToHashSet(StringComparer.Ordinal);
        var problems = await UnknownSeriesAsync(Dashboard.Targets().Select(t => ($"panel '{t.Title}' {t.RefId}", t.Expr)), recorded);

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public async Task RuleUnitTests_FeedOnlyExportedSeries()
    {
        var exported = await MetricInventory.ExportedAsync();
        var unknown = OpsFiles.RuleTests().Tests.SelectMany(t => t.InputSeries.Select(s => (t.Name, Metric: s.Series.Split('{')[0].Trim())))
            .Where(s => !exported.Series.ContainsKey(s.Metric) && !PrometheusOwn.Contains(s.Metric))
            .Select(s => $"test '{s.Name}' feeds {s.Metric}, which no app exports")
            .Distinct()
            .ToList();

        Assert.True(unknown.Count == 0, string.Join('\n', unknown));
    }

    [Fact]
    public void EveryAlert_HasSeverityAndRunbook()
    {
        var alerts = OpsFiles.Rules().AllRules().Where(r => r.Alert is not null).ToList();

        Assert.NotEmpty(alerts);
        Assert.All(alerts, a =>
        {
            Assert.Contains(a.Labels.GetValueOrDefault("severity"), new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace(a.Annotations.GetValueOrDefault("summary")), $"{a.Alert} has no summary");
            Assert.Contains("Runbook", a.Annotations.GetValueOrDefault("description") ?? "", StringComparison.Ordinal);
        });
    }

    [Fact]
    public void EveryAlert_FiresAndClearsInAPromtoolTest()
    {
        var tests = OpsFiles.RuleTests();
        var alerts = OpsFiles.Rules().AllRules().Where(r => r.Alert is not null).Select(r => r.Alert!).ToList();
        var missing = new List<string>();
        foreach (var alert in alerts)
        {
            var firesThenClears = tests.Tests.Any(t =>
            {
                var cases = t.AlertRuleTest.Where(c => c.Alertname == alert).ToList();
                var fired = cases.Where(c => c.ExpAlerts.Count > 0).Select(c => Duration(c.EvalTime)).DefaultIfEmpty(TimeSpan.MaxValue).Min();
                return cases.Any(c => c.ExpAlerts.Count == 0 && Duration(c.EvalTime) > fired)
                    && cases.Where(c => c.ExpAlerts.Count > 0).SelectMany(c => c.ExpAlerts).All(e => e.ExpAnnotations.ContainsKey("summary") && e.ExpAnnotations.ContainsKey("description"));
            });
            if (!firesThenClears)
            {
                missing.Add($"{alert}: no test group where it fires (with its summary and description) and later has cleared");
            }
        }

        var unknown = tests.Tests.SelectMany(t => t.AlertRuleTest).Select(c => c.Alertname).Distinct().Except(alerts).ToList();
        Assert.True(missing.Count == 0, string.Join('\n', missing));
        Assert.True(unknown.Count == 0, "tests of alerts the rules do not have: " + string.Join(", ", unknown));
    }

    [Fact]
    public void RuleUnitTests_EvaluateGroupsInFileOrder()
    {
        // promtool evaluates groups in a random order unless told; alerts read the recording groups' rules.
        Assert.Equal(OpsFiles.Rules().Groups.Select(g => g.Name), OpsFiles.RuleTests().GroupEvalOrder);
        Assert.Equal([Path.GetFileName(OpsFiles.RulesPath)], OpsFiles.RuleTests().RuleFiles);
    }

    [Fact]
    public void Capacities_AreTheReadmeCapacityTable()
    {
        var readme = File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "README.md"));
        var section = readme[readme.IndexOf("## Capacity planning", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var constants = OpsFiles.Rules().AllRules().Where(r => r.Record is not null).ToDictionary(r => r.Record!, r => r.Expr.Trim(), StringComparer.Ordinal);

        Assert.Equal($"vector({Rate(section, "ingress, votes accepted/s")})", constants["fanvote:capacity_ingress_votes_accepted_per_second"]);
        Assert.Equal($"vector({Rate(section, "tally, votes persisted/s")})", constants["fanvote:capacity_tally_votes_persisted_per_second"]);
        Assert.Equal($"vector({Rate(section, "results, open SSE streams")})", constants["fanvote:capacity_results_open_streams"]);
        Assert.Equal("vector(0.7)", constants["fanvote:capacity_alert_fraction"]);
    }

    private static async Task<List<string>> UnknownSeriesAsync(IEnumerable<(string Where, string Expr)> exprs, HashSet<string> recorded)
    {
        var exported = await MetricInventory.ExportedAsync();
        var sourceText = string.Concat(MetricInventory.Declared.Select(i => i.File).Distinct().Select(f => File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, f))));
        var problems = new List<string>();
        foreach (var (where, expr) in exprs)
        {
            var selectors = PromQl.Selectors(expr);
            if (selectors.Count == 0 && !expr.Contains("vector(", StringComparison.Ordinal))
            {
                problems.Add($"{where}: no series found in {expr}");
            }

            foreach (var (metric, labels) in selectors)
            {
                if (metric.Contains(':', StringComparison.Ordinal))
                {
                    if (!recorded.Contains(metric))
                    {
                        problems.Add($"{where}: {metric} is not a recording rule of {Path.GetFileName(OpsFiles.RulesPath)}");
                    }

                    continue;
                }

                if (PrometheusOwn.Contains(metric))
                {
                    continue;
                }

                if (!exported.Series.TryGetValue(metric, out var seen))
                {
                    problems.Add($"{where}: {metric} is not exported by any app (declared instruments: {string.Join(", ", MetricInventory.Declared.Select(i => i.Name))})");
                    continue;
                }

                // A label matched on must be one the exporter writes, one the scrape adds, or a tag key the sources use.
                foreach (var label in labels.Where(l => !TargetLabels.Contains(l) && !seen.Contains(l)))
                {
                    if (!sourceText.Contains($"\"{label}\"", StringComparison.Ordinal) && !SourceUsesTag(label))
                    {
                        problems.Add($"{where}: {metric} has no label {label}");
                    }
                }
            }
        }

        return problems;
    }

    private static bool SourceUsesTag(string label) =>
        Directory.EnumerateFiles(Path.Combine(TestEnvironment.RepoRoot, "services"), "*.cs", SearchOption.AllDirectories)
            .Any(f => File.ReadAllText(f).Contains($"(\"{label}\",", StringComparison.Ordinal));

    private static string Rate(string section, string row)
    {
        var m = Regex.Match(section, $@"^\|\s*{Regex.Escape(row)}\s*\|\s*([\d,]+)\s*\|", RegexOptions.Multiline);
        Assert.True(m.Success, $"README.md Capacity planning has no row '{row}'");
        return long.Parse(m.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A Prometheus duration such as 1m15s or 75m.</summary>
    private static TimeSpan Duration(string text)
    {
        var total = TimeSpan.Zero;
        var parts = DurationPart().Matches(text);
        Assert.True(parts.Sum(p => p.Length) == text.Length && parts.Count > 0, $"not a duration: {text}");
        foreach (Match p in parts)
        {
            var n = long.Parse(p.Groups[1].Value, CultureInfo.InvariantCulture);
            total += p.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                "d" => TimeSpan.FromDays(n),
                _ => TimeSpan.FromDays(7 * n),
            };
        }

        return total;
    }

    [GeneratedRegex(@"(\d+)(ms|s|m|h|d|w)")]
    private static partial Regex DurationPart();
}
