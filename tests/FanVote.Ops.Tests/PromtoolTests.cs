namespace FanVote.Ops.Tests;

/// <summary>The rule files checked and unit-tested by a real Prometheus (promtool).</summary>
public sealed class PromtoolTests
{
    [Fact]
    public async Task Rules_PassPromtoolCheck()
    {
        var (code, output) = await Promtool.RunAsync(Path.GetDirectoryName(OpsFiles.RulesPath)!, "check", "rules", Path.GetFileName(OpsFiles.RulesPath));

        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RuleUnitTests_PassPromtoolTest()
    {
        var (code, output) = await Promtool.RunAsync(Path.GetDirectoryName(OpsFiles.RuleTestsPath)!, "test", "rules", Path.GetFileName(OpsFiles.RuleTestsPath));

        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DashboardQueries_ArePromQlThatPromtoolAccepts()
    {
        // promtool checks PromQL only inside rule files: each panel query becomes a recording rule of a scratch file.
        var dir = Directory.CreateTempSubdirectory("fanvote-ops-");
        try
        {
            var rules = Dashboard.Targets().Select(t => $"      - record: dashboard:{t.PanelId}_{t.RefId}\n        expr: '{Dashboard.ForPromtool(t.Expr).Replace("'", "''", StringComparison.Ordinal)}'\n");
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "dashboard.yml"), "groups:\n  - name: dashboard\n    rules:\n" + string.Concat(rules), TestContext.Current.CancellationToken);

            var (code, output) = await Promtool.RunAsync(dir.FullName, "check", "rules", "dashboard.yml");

            Assert.True(code == 0, output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
