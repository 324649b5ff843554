using System.Globalization;
using FanVote.Contracts;

namespace FanVote.Components.Tests.Checks;

/// <summary>tilt/k8s against dapr.yaml, the regions and the services' sources, without a cluster.</summary>
public static class ManifestRules
{
    /// <summary>The apps whose load follows the audience: each has a HorizontalPodAutoscaler.</summary>
    public static IReadOnlyList<string> AutoscaledApps { get; } = [AppIds.Ingress, AppIds.Tally, AppIds.Results];

    public static IEnumerable<Finding> All(RepoTree repo)
    {
        ArgumentNullException.ThrowIfNull(repo);
        var apps = repo.RunApps();
        var scan = new SourceScan(repo.ServiceSources());
        var services = scan.Services();
        var defaults = scan.DefaultEndpointPaths();
        var manifests = repo.Manifests();
        var configs = repo.Regions().Where(r => !r.IsLocal && r.Configuration?.Name is not null).ToList();
        var findings = new List<Finding>();

        foreach (var app in apps.Where(a => manifests.All(m => m.AppFileName != a.AppId)))
        {
            findings.Add(new Finding(Rules.Manifest, repo.Rel(Path.Combine(repo.ManifestDir, app.AppId + ".yaml")), $"is missing: app '{app.AppId}' of dapr.yaml has no Kubernetes manifest"));
        }

        foreach (var m in manifests)
        {
            var where = repo.Rel(m.File);
            var appId = m.AppId;
            if (appId is null)
            {
                findings.Add(new Finding(Rules.Manifest, where, "the Deployment's pod template has no dapr.io/app-id annotation"));
                continue;
            }

            if (!Known.AppIdSet.Contains(appId))
            {
                findings.Add(new Finding(Rules.Manifest, where, $"dapr.io/app-id '{appId}' is not in FanVote.Contracts AppIds"));
            }

            if (appId != m.AppFileName)
            {
                findings.Add(new Finding(Rules.Manifest, where, $"holds app '{appId}'; name the file {appId}.yaml (the Tiltfile loads tilt/k8s/<app id>.yaml)"));
            }

            foreach (var (key, want) in new[] { ("dapr.io/enabled", "true"), ("dapr.io/log-as-json", "true") })
            {
                if (m.Annotation(key) != want)
                {
                    findings.Add(new Finding(Rules.Manifest, where, $"annotation {key} is '{m.Annotation(key)}', not \"{want}\""));
                }
            }

            findings.AddRange(Tokens(where, m, appId));

            foreach (var region in configs.Where(r => m.Annotation("dapr.io/config") != r.Configuration!.Name))
            {
                findings.Add(new Finding(Rules.Manifest, where, $"dapr.io/config is '{m.Annotation("dapr.io/config")}', but {repo.Rel(region.ConfigFile)} names its Configuration '{region.Configuration!.Name}'"));
            }

            var port = int.TryParse(m.Annotation("dapr.io/app-port"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) ? p : (int?)null;
            var run = apps.FirstOrDefault(a => a.AppId == appId);
            if (port is null)
            {
                findings.Add(new Finding(Rules.Manifest, where, "has no numeric dapr.io/app-port annotation"));
            }
            else if (run is not null && run.AppPort != port)
            {
                findings.Add(new Finding(Rules.Manifest, where, $"dapr.io/app-port is {port}, dapr.yaml says appPort {run.AppPort} for '{appId}'"));
            }

            // An app not in dapr.yaml yet (its project is still being built) is held to what ServiceDefaults maps.
            var service = run is null ? null : services.FirstOrDefault(s => s.Dir == run.AppDir);
            var paths = service?.MappedPaths ?? defaults;
            if (m.Annotation("dapr.io/enable-app-health-check") == "true" && m.Annotation("dapr.io/app-health-check-path") is { } health && !paths.Contains(health))
            {
                findings.Add(new Finding(Rules.Probes, where, $"dapr.io/app-health-check-path '{health}' is not a path '{appId}' maps ({Join(paths)})"));
            }

            if (service?.UsesForwardedHeaders == true && !EnvNames(m, appId).Contains(TrustedProxiesSetting))
            {
                findings.Add(new Finding(Rules.Manifest, where, $"'{appId}' reads X-Forwarded-For (UseForwardedHeaders) but is not given {TrustedProxiesSetting}: behind the ingress controller every fan would count as the controller's address"));
            }

            findings.AddRange(Container(where, m, appId, port, paths));
            findings.AddRange(Autoscaler(where, m, appId));
        }

        foreach (var g in manifests.Where(m => m.Annotation("dapr.io/app-port") is not null).GroupBy(m => m.Annotation("dapr.io/app-port")).Where(g => g.Count() > 1))
        {
            findings.Add(new Finding(Rules.Manifest, repo.Rel(repo.ManifestDir), $"{string.Join(", ", g.Select(m => m.AppFileName))} share app port {g.Key}"));
        }

        findings.AddRange(Kustomization(repo, manifests));
        return findings;
    }

    /// <summary>The apps of tilt/k8s that are not in dapr.yaml yet: checked against ServiceDefaults' paths only.</summary>
    public static IReadOnlyList<string> PendingApps(RepoTree repo)
    {
        ArgumentNullException.ThrowIfNull(repo);
        var apps = repo.RunApps();
        return [.. repo.Manifests().Select(m => m.AppId).OfType<string>().Where(id => apps.All(a => a.AppId != id))];
    }

    /// <summary>
    /// What each app must be given on Kubernetes besides the tokens (the same as the launcher's EnvPlan gives it
    /// under `./fanvote up`): its keys, from Secrets, and no key of another app's purpose.
    /// </summary>
    public static IReadOnlyDictionary<string, string[]> SecretSettings { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [AppIds.Ingress] = ["FANVOTE_TOKEN_KEYS", "FANVOTE_RECEIPT_KEY", "FANVOTE_ACCOUNT_KEY", "FANVOTE_VOTE_KEY", "FANVOTE_REDIS_PASSWORD", "FANVOTE_OPERATOR_KEY"],
        [AppIds.Tally] = ["FANVOTE_PG_CONNECTION", "FANVOTE_VOTE_KEY", "FANVOTE_AUDIT_SIGNING_KEY", "FANVOTE_PSEUDONYM_KEY"],
        [AppIds.Fraud] = [],
        [AppIds.Results] = ["FANVOTE_AUDIT_PUBLIC_KEY"],
        [AppIds.Rewards] = ["FANVOTE_PG_CONNECTION", "FANVOTE_TOKEN_KEYS", "FANVOTE_LEDGER_KEY", "FANVOTE_OPERATOR_KEY"],
        [AppIds.Orchestrator] = ["FANVOTE_OPERATOR_KEY", "FANVOTE_AUDIT_PUBLIC_KEY", "FANVOTE_ACTION_LOG_KEY", "FANVOTE_TOKEN_KEYS"],
    };

    private static readonly string[] KeySettings =
        ["FANVOTE_TOKEN_KEYS", "FANVOTE_RECEIPT_KEY", "FANVOTE_ACCOUNT_KEY", "FANVOTE_VOTE_KEY", "FANVOTE_AUDIT_SIGNING_KEY", "FANVOTE_LEDGER_KEY", "FANVOTE_OPERATOR_KEY", "FANVOTE_ACTION_LOG_KEY", "FANVOTE_PSEUDONYM_KEY"];

    /// <summary>
    /// daprd's two tokens (README "Trust"): dapr.io/app-token-secret names this app's own Secret and
    /// dapr.io/api-token-secret the shared API token, the app container reads the same two Secrets (APP_API_TOKEN it
    /// checks, DAPR_API_TOKEN it sends), and each key comes from a Secret, only to the apps that need it.
    /// </summary>
    public static IEnumerable<Finding> Tokens(string where, Manifest m, string appId)
    {
        ArgumentNullException.ThrowIfNull(m);
        var appSecret = $"fanvote-app-token-{appId}";
        foreach (var (annotation, secret) in new[] { ("dapr.io/app-token-secret", appSecret), ("dapr.io/api-token-secret", "fanvote-dapr-api-token") })
        {
            if (m.Annotation(annotation) != secret)
            {
                yield return new Finding(Rules.Tokens, where, $"annotation {annotation} is '{m.Annotation(annotation)}', not \"{secret}\"");
            }
        }

        if (m.Deployment is null)
        {
            yield break;
        }

        var containers = YamlDoc.List(m.Deployment.At("spec.template.spec"), "containers").OfType<IReadOnlyDictionary<string, object?>>().ToList();
        var c = containers.FirstOrDefault(x => YamlDoc.Str(x, "name") == appId) ?? containers.FirstOrDefault();
        var env = YamlDoc.List(c, "env").OfType<IReadOnlyDictionary<string, object?>>().ToList();
        string? SecretOf(string name)
        {
            var e = env.FirstOrDefault(x => YamlDoc.Str(x, "name") == name);
            return e is null ? null : YamlDoc.Str(YamlDoc.Map(YamlDoc.Map(e, "valueFrom"), "secretKeyRef"), "name") ?? "(a plain value)";
        }

        foreach (var (setting, secret) in new[] { ("APP_API_TOKEN", appSecret), ("DAPR_API_TOKEN", "fanvote-dapr-api-token") })
        {
            if (SecretOf(setting) != secret)
            {
                yield return new Finding(Rules.Tokens, where, $"the app's {setting} comes from '{SecretOf(setting) ?? "nowhere"}', not the Secret {secret} its sidecar uses");
            }
        }

        var wanted = SecretSettings.GetValueOrDefault(appId, []);
        foreach (var setting in wanted.Where(w => SecretOf(w) is null or "(a plain value)"))
        {
            yield return new Finding(Rules.Tokens, where, $"{setting} is not set from a Secret; '{appId}' does not start without it");
        }

        foreach (var setting in KeySettings.Where(k => !wanted.Contains(k) && SecretOf(k) is not null))
        {
            yield return new Finding(Rules.Tokens, where, $"{setting} is given to '{appId}', which has no use for that key (each key only where its purpose is)");
        }
    }

    /// <summary>FanVoteDefaults.TrustedProxiesSetting: the reverse proxies whose X-Forwarded-For a service believes.</summary>
    public const string TrustedProxiesSetting = "FANVOTE_TRUSTED_PROXIES";

    private static HashSet<string> EnvNames(Manifest m, string appId)
    {
        var containers = YamlDoc.List(m.Deployment?.At("spec.template.spec"), "containers").OfType<IReadOnlyDictionary<string, object?>>().ToList();
        var c = containers.FirstOrDefault(x => YamlDoc.Str(x, "name") == appId) ?? containers.FirstOrDefault();
        return [.. YamlDoc.List(c, "env").OfType<IReadOnlyDictionary<string, object?>>().Select(e => YamlDoc.Str(e, "name") ?? "")];
    }

    private static IEnumerable<Finding> Container(string where, Manifest m, string appId, int? port, IReadOnlySet<string> paths)
    {
        var containers = YamlDoc.List(m.Deployment!.At("spec.template.spec"), "containers").OfType<IReadOnlyDictionary<string, object?>>().ToList();
        var c = containers.FirstOrDefault(x => YamlDoc.Str(x, "name") == appId) ?? containers.FirstOrDefault();
        if (c is null)
        {
            yield return new Finding(Rules.Manifest, where, "the Deployment has no container");
            yield break;
        }

        var ports = YamlDoc.List(c, "ports").OfType<IReadOnlyDictionary<string, object?>>().ToList();
        var appPort = ports.FirstOrDefault(x => YamlDoc.Str(x, "containerPort") == port?.ToString(CultureInfo.InvariantCulture));
        if (appPort is null)
        {
            yield return new Finding(Rules.Manifest, where, $"container '{YamlDoc.Str(c, "name")}' exposes no containerPort {port} (the Dapr app port)");
        }

        var env = YamlDoc.List(c, "env").OfType<IReadOnlyDictionary<string, object?>>().ToDictionary(e => YamlDoc.Str(e, "name") ?? "", e => YamlDoc.Str(e, "value"), StringComparer.Ordinal);
        var listens = env.GetValueOrDefault("ASPNETCORE_HTTP_PORTS") ?? env.GetValueOrDefault("ASPNETCORE_URLS");
        if (listens is null || !listens.Contains(port?.ToString(CultureInfo.InvariantCulture) ?? "?", StringComparison.Ordinal))
        {
            yield return new Finding(Rules.Manifest, where, $"the app is not told to listen on {port} (ASPNETCORE_HTTP_PORTS is '{listens}'); ASP.NET Core images listen on 8080 otherwise");
        }

        foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
        {
            var http = YamlDoc.Map(YamlDoc.Map(c, probe), "httpGet");
            if (http.Count == 0)
            {
                yield return new Finding(Rules.Probes, where, $"container has no {probe} with httpGet");
                continue;
            }

            var path = YamlDoc.Str(http, "path");
            if (path is null || !paths.Contains(path))
            {
                yield return new Finding(Rules.Probes, where, $"{probe} checks '{path}', which '{appId}' does not map ({Join(paths)})");
            }

            var probePort = YamlDoc.Str(http, "port");
            if (probePort != port?.ToString(CultureInfo.InvariantCulture) && (appPort is null || probePort != YamlDoc.Str(appPort, "name")))
            {
                yield return new Finding(Rules.Probes, where, $"{probe} checks port '{probePort}', not the app port {port}");
            }
        }

        var resources = YamlDoc.Map(c, "resources");
        foreach (var (section, key) in new[] { ("requests", "cpu"), ("requests", "memory"), ("limits", "memory") })
        {
            if (YamlDoc.Str(YamlDoc.Map(resources, section), key) is null)
            {
                yield return new Finding(Rules.Manifest, where, $"container has no resources.{section}.{key}");
            }
        }
    }

    private static IEnumerable<Finding> Autoscaler(string where, Manifest m, string appId)
    {
        var hpa = m.Docs.FirstOrDefault(d => d.Kind == "HorizontalPodAutoscaler");
        if (hpa is null)
        {
            if (AutoscaledApps.Contains(appId))
            {
                yield return new Finding(Rules.Autoscaling, where, $"'{appId}' has no HorizontalPodAutoscaler");
            }

            yield break;
        }

        var target = YamlDoc.Map(hpa.At("spec"), "scaleTargetRef");
        if (YamlDoc.Str(target, "kind") != "Deployment" || YamlDoc.Str(target, "name") != m.Deployment!.Name)
        {
            yield return new Finding(Rules.Autoscaling, where, $"the HorizontalPodAutoscaler scales {YamlDoc.Str(target, "kind")} '{YamlDoc.Str(target, "name")}', not the Deployment '{m.Deployment!.Name}'");
        }

        var min = int.TryParse(YamlDoc.Str(hpa.At("spec"), "minReplicas"), CultureInfo.InvariantCulture, out var mn) ? mn : 1;
        var max = int.TryParse(YamlDoc.Str(hpa.At("spec"), "maxReplicas"), CultureInfo.InvariantCulture, out var mx) ? mx : 0;
        if (min < 1 || max < min)
        {
            yield return new Finding(Rules.Autoscaling, where, $"minReplicas {min} / maxReplicas {max} must satisfy 1 <= min <= max");
        }

        if (YamlDoc.List(hpa.At("spec"), "metrics").Count == 0)
        {
            yield return new Finding(Rules.Autoscaling, where, "the HorizontalPodAutoscaler has no metrics to scale on");
        }
    }

    private static IEnumerable<Finding> Kustomization(RepoTree repo, IReadOnlyList<Manifest> manifests)
    {
        var file = Path.Combine(repo.ManifestDir, "kustomization.yaml");
        if (!File.Exists(file))
        {
            yield return new Finding(Rules.Kustomization, repo.Rel(file), "is missing (kubectl apply -k tilt/k8s)");
            yield break;
        }

        var listed = YamlDoc.List(YamlDoc.ReadAll(file).Single().Root, "resources").OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var name in manifests.Select(m => Path.GetFileName(m.File)).Append("namespace.yaml").Where(n => !listed.Contains(n)))
        {
            yield return new Finding(Rules.Kustomization, repo.Rel(file), $"does not list {name}");
        }
    }

    private static string Join(IReadOnlySet<string> paths) => string.Join(", ", paths.Order(StringComparer.Ordinal));
}
