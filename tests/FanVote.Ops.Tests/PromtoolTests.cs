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
    public async Task LocalScrapeConfig_PassesPromtoolCheckConfig_AndScrapesEveryApp()
    {
        var dir = Directory.CreateTempSubdirectory("fanvote-ops-");
        try
        {
            var source = Path.GetDirectoryName(OpsFiles.RulesPath)!;
            File.Copy(Path.Combine(source, "prometheus.yml"), Path.Combine(dir.FullName, "prometheus.yml"));
            File.Copy(OpsFiles.RulesPath, Path.Combine(dir.FullName, Path.GetFileName(OpsFiles.RulesPath)));
            var apps = DaprApps();
            foreach (var app in apps.Keys)
            {
                await File.WriteAllTextAsync(Path.Combine(dir.FullName, app + ".token"), "token", TestContext.Current.CancellationToken);
            }

            var (code, output) = await Promtool.RunAsync(dir.FullName, "check", "config", "prometheus.yml");

            Assert.True(code == 0, output);
            var config = File.ReadAllText(Path.Combine(source, "prometheus.yml"));
            Assert.All(apps, a => Assert.Contains($"- job_name: {a.Key}\n    authorization: {{credentials_file: {a.Key}.token}}\n    static_configs: [{{targets: [\"127.0.0.1:{a.Value}\"]}}]", config, StringComparison.Ordinal));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>App id → app port, from dapr.yaml (what `./fanvote up` runs).</summary>
    private static Dictionary<string, string> DaprApps()
    {
        var yaml = new YamlDotNet.Serialization.DeserializerBuilder().Build()
            .Deserialize<Dictionary<string, object>>(File.ReadAllText(Path.Combine(FanVote.Testing.TestEnvironment.RepoRoot, "dapr.yaml")));
        var apps = ((List<object>)yaml["apps"]).Cast<Dictionary<object, object>>()
            .ToDictionary(a => (string)a["appID"], a => a["appPort"].ToString()!, StringComparer.Ordinal);
        Assert.NotEmpty(apps);
        return apps;
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
