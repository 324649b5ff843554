using FanVote.Components.Tests.Checks;
using FanVote.Contracts;

namespace FanVote.Components.Tests;

/// <summary>tilt/k8s: one manifest per app, Dapr app id and port as in dapr.yaml, probes on paths the service maps.</summary>
public sealed class ManifestRulesTests : IDisposable
{
    private readonly TreeCopy _copy = new();

    public void Dispose() => _copy.Dispose();

    private static string M(string app) => $"tilt/k8s/{app}.yaml";

    [Fact]
    public void RealManifests_EveryRule_NoFindings()
    {
        var manifests = TreeCopy.Real.Manifests();
        var services = new SourceScan(TreeCopy.Real.ServiceSources()).Services();

        Expect.None(ManifestRules.All(TreeCopy.Real));
        Assert.All(TreeCopy.Real.RunApps(), a => Assert.Contains(manifests, m => m.AppId == a.AppId));
        Assert.Equal(AppIds.All.Order(StringComparer.Ordinal), manifests.Select(m => m.AppId!).Order(StringComparer.Ordinal));
        // Apps whose service is still being built are held to ServiceDefaults' paths until dapr.yaml lists them.
        Assert.All(ManifestRules.PendingApps(TreeCopy.Real), id => Assert.DoesNotContain(services, s => s.AppId == id));
    }

    [Fact]
    public void Tokens_SidecarWithoutTheAppToken_Reported()
    {
        _copy.Edit("tilt/k8s/tally.yaml", "        dapr.io/app-token-secret: \"fanvote-app-token-tally\"\n", "");

        Expect.Only(ManifestRules.All(_copy.Tree), (Rules.Tokens, M("tally"), "annotation dapr.io/app-token-secret is '', not \"fanvote-app-token-tally\""));
    }

    [Fact]
    public void Tokens_AppReadsAnotherAppsToken_Reported()
    {
        _copy.Edit("tilt/k8s/results.yaml", "{ secretKeyRef: { name: fanvote-app-token-results, key: token } }", "{ secretKeyRef: { name: fanvote-app-token-tally, key: token } }");

        Expect.Only(ManifestRules.All(_copy.Tree), (Rules.Tokens, M("results"), "the app's APP_API_TOKEN comes from 'fanvote-app-token-tally'"));
    }

    [Fact]
    public void Tokens_RewardsWithoutTokenKeys_AndResultsWithTheVoteKey_Reported()
    {
        _copy.Edit("tilt/k8s/rewards.yaml", "        - name: FANVOTE_TOKEN_KEYS\n          valueFrom: { secretKeyRef: { name: fanvote-app, key: token-keys } }\n", "");
        _copy.Edit("tilt/k8s/results.yaml", "        - name: FANVOTE_AUDIT_PUBLIC_KEY\n", "        - name: FANVOTE_VOTE_KEY\n          valueFrom: { secretKeyRef: { name: fanvote-app, key: vote-key } }\n        - name: FANVOTE_AUDIT_PUBLIC_KEY\n");

        Expect.Only(ManifestRules.All(_copy.Tree),
            (Rules.Tokens, M("rewards"), "FANVOTE_TOKEN_KEYS is not set from a Secret"),
            (Rules.Tokens, M("results"), "FANVOTE_VOTE_KEY is given to 'results'"));
    }

    [Fact]
    public void Manifest_AppReadingForwardedForWithoutTrustedProxies_Reported()
    {
        var setting = "        - name: FANVOTE_TRUSTED_PROXIES\n          valueFrom: { secretKeyRef: { name: fanvote-app, key: trusted-proxies, optional: true } }\n";
        _copy.Edit(M("ingress"), setting, "");
        _copy.Edit(M("results"), setting, "");

        Expect.Only(ManifestRules.All(_copy.Tree),
            (Rules.Manifest, M("ingress"), "'ingress' reads X-Forwarded-For (UseForwardedHeaders) but is not given FANVOTE_TRUSTED_PROXIES"),
            (Rules.Manifest, M("results"), "'results' reads X-Forwarded-For (UseForwardedHeaders) but is not given FANVOTE_TRUSTED_PROXIES"));
    }

    [Fact]
    public void Manifest_PortThatIsNotDaprYamls_Reported()
    {
        // Consistent inside the file (annotation, container, listen port, Service), only dapr.yaml disagrees.
        _copy.Edit(M("tally"), "5083", "5093");

        Expect.Only(ManifestRules.All(_copy.Tree), (Rules.Manifest, M("tally"), "dapr.io/app-port is 5093, dapr.yaml says appPort 5083"));
    }

    [Fact]
    public void Manifest_ProbeOnAPathTheServiceDoesNotMap_Reported()
    {
        _copy.Edit(M("ingress"), "readinessProbe:\n          httpGet: { path: /healthz", "readinessProbe:\n          httpGet: { path: /ready");
        _copy.Edit(M("fraud"), "livenessProbe:\n          httpGet: { path: /alive", "livenessProbe:\n          httpGet: { path: /livez");

        Expect.Only(ManifestRules.All(_copy.Tree),
            (Rules.Probes, M("ingress"), "readinessProbe checks '/ready', which 'ingress' does not map"),
            (Rules.Probes, M("fraud"), "livenessProbe checks '/livez', which 'fraud' does not map"));
    }

    [Fact]
    public void Manifest_ServiceStopsMappingTheDefaultEndpoints_ItsProbesReported()
    {
        _copy.Edit("services/results/FanVote.Results/Program.cs", "app.MapFanVoteDefaultEndpoints();", "");

        Expect.Only(ManifestRules.All(_copy.Tree),
            (Rules.Probes, M("results"), "dapr.io/app-health-check-path '/healthz' is not a path 'results' maps"),
            (Rules.Probes, M("results"), "readinessProbe checks '/healthz'"),
            (Rules.Probes, M("results"), "livenessProbe checks '/alive'"));
    }

    [Fact]
    public void Manifest_AppListensOnTheImageDefaultPort_Reported()
    {
        _copy.Edit(M("orchestrator"), "        - { name: ASPNETCORE_HTTP_PORTS, value: \"5082\" }\n", "");

        Expect.Only(ManifestRules.All(_copy.Tree), (Rules.Manifest, M("orchestrator"), "the app is not told to listen on 5082"));
    }

    [Fact]
    public void Manifest_AnnotationsOff_Reported()
    {
        _copy.Edit(M("results"), "dapr.io/log-as-json: \"true\"", "dapr.io/log-as-json: \"false\"");
        _copy.Edit(M("tally"), "dapr.io/config: \"fanvote\"", "dapr.io/config: \"fanvote-prod\"");

        Expect.Only(ManifestRules.All(_copy.Tree),
            (Rules.Manifest, M("results"), "annotation dapr.io/log-as-json is 'false'"),
            (Rules.Manifest, M("tally"), "but components/region-a/config.yaml names its Configuration 'fanvote'"),
            (Rules.Manifest, M("tally"), "but components/region-b/config.yaml names its Configuration 'fanvote'"));
    }

    [Fact]
    public void Manifest_MissingOrWithoutResources_Reported()
    {
        _copy.Delete(M("orchestrator"));
        _copy.Edit(M("ingress"), "requests: { cpu: \"500m\", memory: \"256Mi\" }", "requests: { cpu: \"500m\" }");

        Expect.Only(ManifestRules.All(_copy.Tree),
            (Rules.Manifest, M("orchestrator"), "is missing: app 'orchestrator' of dapr.yaml has no Kubernetes manifest"),
            (Rules.Manifest, M("ingress"), "container has no resources.requests.memory"));
    }

    [Fact]
    public void Autoscaling_IngressWithoutHpaOrHpaOnTheWrongTarget_Reported()
    {
        var ingress = File.ReadAllText(_copy.PathOf(M("ingress")));
        var hpaStart = ingress.IndexOf("---\n# The floor", StringComparison.Ordinal);
        var pdbStart = ingress.IndexOf("---\napiVersion: policy/v1", StringComparison.Ordinal);
        _copy.Write(M("ingress"), ingress[..hpaStart] + ingress[pdbStart..]);
        _copy.Edit(M("tally"), "kind: Deployment, name: tally }", "kind: Deployment, name: tallies }");

        Expect.Only(ManifestRules.All(_copy.Tree),
            (Rules.Autoscaling, M("ingress"), "'ingress' has no HorizontalPodAutoscaler"),
            (Rules.Autoscaling, M("tally"), "scales Deployment 'tallies', not the Deployment 'tally'"));
    }

    [Fact]
    public void Kustomization_ManifestNotListed_Reported()
    {
        _copy.Edit("tilt/k8s/kustomization.yaml", "- rewards.yaml\n", "");

        Expect.Only(ManifestRules.All(_copy.Tree), (Rules.Kustomization, "tilt/k8s/kustomization.yaml", "does not list rewards.yaml"));
    }
}
