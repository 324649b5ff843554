using System.Text.Json;

namespace FanVote.Ops.Tests;

/// <summary>The Grafana dashboard is valid JSON with a Prometheus datasource variable and queries on every panel.</summary>
public sealed class DashboardTests
{
    [Fact]
    public void Dashboard_HasAPrometheusDatasourceVariable()
    {
        using var doc = Dashboard.Load();

        var variables = doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        Assert.Contains(variables, v => v.GetProperty("name").GetString() == "datasource"
            && v.GetProperty("type").GetString() == "datasource" && v.GetProperty("query").GetString() == "prometheus");
        Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("uid").GetString()));
    }

    [Fact]
    public void EveryPanel_QueriesPrometheusThroughTheVariable()
    {
        using var doc = Dashboard.Load();
        var panels = Dashboard.Panels(doc);

        Assert.NotEmpty(panels);
        Assert.All(panels, p =>
        {
            var title = p.Panel.GetProperty("title").GetString();
            Assert.Equal("${datasource}", p.Panel.GetProperty("datasource").GetProperty("uid").GetString());
            var targets = p.Panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.True(targets.Count > 0, $"panel '{title}' has no query");
            Assert.All(targets, t =>
            {
                Assert.Equal("prometheus", t.GetProperty("datasource").GetProperty("type").GetString());
                Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString()), $"panel '{title}' has an empty query");
            });
        });
        Assert.Equal(panels.Count, panels.Select(p => p.Panel.GetProperty("id").GetInt32()).Distinct().Count());
    }

    [Fact]
    public void Dashboard_HasARowPerServiceWithTheIssuesPanels()
    {
        using var doc = Dashboard.Load();
        var panels = Dashboard.Panels(doc);
        var rows = panels.Select(p => p.Row).Distinct().ToList();
        var exprs = panels.SelectMany(p => p.Panel.GetProperty("targets").EnumerateArray().Select(t => (p.Row, Expr: t.GetProperty("expr").GetString() ?? ""))).ToList();

        Assert.Superset(new HashSet<string> { "Ingress", "Tally", "Fraud", "Results", "Rewards" }, rows.ToHashSet());
        Assert.Contains(exprs, e => e.Row == "Ingress" && e.Expr.Contains("fanvote_ingress_queue_depth", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Row == "Tally" && e.Expr.Contains("fanvote_tally_write_latency_milliseconds_bucket", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Row == "Results" && e.Expr.Contains("fanvote_results_open_streams", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Row == "Fraud" && e.Expr.Contains("fanvote_fraud_votes_suspect_total", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Expr.Contains("http_server_error_ratio", StringComparison.Ordinal));
    }
}
