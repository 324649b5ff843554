namespace FanVote.Components.Tests.Checks;

/// <summary>dapr.yaml against the services on disk: app ids, projects and ports agree.</summary>
public static class RunFileRules
{
    public static IEnumerable<Finding> All(RepoTree repo)
    {
        ArgumentNullException.ThrowIfNull(repo);
        var apps = repo.RunApps();
        var services = new SourceScan(repo.ServiceSources()).Services();
        const string Where = "dapr.yaml";
        foreach (var app in apps)
        {
            if (!Known.AppIdSet.Contains(app.AppId))
            {
                yield return new Finding(Rules.RunFile, Where, $"app id '{app.AppId}' is not in FanVote.Contracts AppIds");
            }

            var service = services.FirstOrDefault(s => s.Dir == app.AppDir);
            if (service is null)
            {
                yield return new Finding(Rules.RunFile, Where, $"app '{app.AppId}': {repo.Rel(app.AppDir)} holds no project that calls AddFanVoteDefaults");
            }
            else if (service.AppId != app.AppId)
            {
                yield return new Finding(Rules.RunFile, Where, $"app '{app.AppId}': its project {repo.Rel(service.File)} calls AddFanVoteDefaults with app id '{service.AppId}'");
            }
            else if (app.HealthCheckPath is { } health && !service.MappedPaths.Contains(health))
            {
                yield return new Finding(Rules.RunFile, Where, $"app '{app.AppId}': appHealthCheckPath '{health}' is not a path the service maps ({string.Join(", ", service.MappedPaths.Order(StringComparer.Ordinal))})");
            }

            if (app.AppPort is null)
            {
                yield return new Finding(Rules.RunFile, Where, $"app '{app.AppId}' has no appPort (the manifests and the README's port table need a fixed one)");
            }
        }

        foreach (var s in services.Where(s => apps.All(a => a.AppDir != s.Dir)))
        {
            yield return new Finding(Rules.RunFile, Where, $"service '{s.AppId}' ({repo.Rel(s.Dir)}) is not in dapr.yaml, so ./fanvote up and tilt up would not run it");
        }

        foreach (var g in apps.Where(a => a.AppPort is not null).GroupBy(a => a.AppPort).Where(g => g.Count() > 1))
        {
            yield return new Finding(Rules.RunFile, Where, $"apps {string.Join(", ", g.Select(a => a.AppId))} share appPort {g.Key}");
        }
    }
}
