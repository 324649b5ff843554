using FanVote.Components.Tests.Checks;

namespace FanVote.Components.Tests;

/// <summary>dapr.yaml's app ids, projects and ports agree with the services on disk and FanVote.Contracts.</summary>
public sealed class RunFileRulesTests : IDisposable
{
    private readonly TreeCopy _copy = new();

    public void Dispose() => _copy.Dispose();

    [Fact]
    public void RealRunFile_AppIdsMatchTheServices()
    {
        var services = new SourceScan(TreeCopy.Real.ServiceSources()).Services();

        Expect.None(RunFileRules.All(TreeCopy.Real));
        Assert.Equal(
            TreeCopy.Real.RunApps().Select(a => a.AppId).Order(StringComparer.Ordinal),
            services.Select(s => s.AppId).Order(StringComparer.Ordinal));
        Assert.All(services, s => Assert.Contains("/healthz", s.MappedPaths));
    }

    [Fact]
    public void RunFile_AppIdThatIsNotTheServices_Reported()
    {
        _copy.Edit("dapr.yaml", "appID: tally", "appID: tallies");

        Expect.Only(RunFileRules.All(_copy.Tree),
            (Rules.RunFile, "dapr.yaml", "app id 'tallies' is not in FanVote.Contracts AppIds"),
            (Rules.RunFile, "dapr.yaml", "calls AddFanVoteDefaults with app id 'tally'"));
    }

    [Fact]
    public void RunFile_ServiceLeftOut_Reported()
    {
        _copy.Edit("dapr.yaml", """
              - appID: results
                appDirPath: ./services/results/FanVote.Results
                appPort: 5081
                command: ["dotnet", "run", "--no-build", "--no-launch-profile"]

            """, "");

        Expect.Only(RunFileRules.All(_copy.Tree), (Rules.RunFile, "dapr.yaml", "service 'results' (services/results/FanVote.Results) is not in dapr.yaml"));
    }

    [Fact]
    public void RunFile_TwoAppsOnOnePort_Reported()
    {
        _copy.Edit("dapr.yaml", "appPort: 5081", "appPort: 5080");

        Expect.Only(RunFileRules.All(_copy.Tree), (Rules.RunFile, "dapr.yaml", "apps results, ingress share appPort 5080"));
    }

    [Fact]
    public void RunFile_HealthCheckPathNobodyMaps_Reported()
    {
        _copy.Edit("dapr.yaml", "appHealthCheckPath: /healthz", "appHealthCheckPath: /health");

        var findings = RunFileRules.All(_copy.Tree).ToList();

        Assert.Equal(_copy.Tree.RunApps().Count, findings.Count);
        Assert.All(findings, f => Assert.Contains("appHealthCheckPath '/health' is not a path the service maps", f.Message, StringComparison.Ordinal));
    }
}
