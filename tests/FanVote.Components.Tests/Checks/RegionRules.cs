using System.Text.RegularExpressions;
using FanVote.Contracts;

namespace FanVote.Components.Tests.Checks;

/// <summary>Rules for each folder of components/ (docs/dapr-subset.md §8, components/README.md).</summary>
public static partial class RegionRules
{
    private static readonly HashSet<string> KafkaAuthTypes = new(StringComparer.OrdinalIgnoreCase) { "none", "password", "mtls", "oidc", "certificate", "awsiam" };

    /// <summary>The building blocks whose files may differ between regions only in the broker or store.</summary>
    public static IReadOnlyList<string> SwappedFiles { get; } = ["pubsub.yaml", "statestore.yaml"];

    public static IEnumerable<Finding> All(RepoTree repo)
    {
        ArgumentNullException.ThrowIfNull(repo);
        var regions = repo.Regions();
        return regions.SelectMany(r => Check(repo, r)).Concat(SwappedFiles.SelectMany(f => SwapOnly(repo, regions, f)));
    }

    /// <summary>
    /// `diff components/region-a/resources/pubsub.yaml components/region-b/resources/pubsub.yaml` shows only the
    /// swap: outside spec.type, spec.version and the spec.metadata block, every line of a cluster region's file
    /// is the same as in the first region (comments, names, auth, scopes, order).
    /// </summary>
    public static IEnumerable<Finding> SwapOnly(RepoTree repo, IReadOnlyList<Region> regions, string fileName)
    {
        ArgumentNullException.ThrowIfNull(regions);
        var files = regions.Where(r => !r.IsLocal).Select(r => Path.Combine(r.ResourcesDir, fileName)).Where(File.Exists).ToList();
        if (files.Count < 2)
        {
            yield break;
        }

        var baseline = Skeleton(files[0]);
        foreach (var other in files.Skip(1))
        {
            var lines = Skeleton(other);
            var at = Enumerable.Range(0, Math.Max(lines.Count, baseline.Count))
                .FirstOrDefault(i => i >= lines.Count || i >= baseline.Count || lines[i] != baseline[i], -1);
            if (at >= 0)
            {
                yield return new Finding(Rules.Swap, repo.Rel(other),
                    $"differs from {repo.Rel(files[0])} outside spec.type, spec.version and spec.metadata (\"{(at < lines.Count ? lines[at] : "(end)")}\" vs \"{(at < baseline.Count ? baseline[at] : "(end)")}\"), so its diff is more than the swap");
            }
        }
    }

    /// <summary>The lines of a component file without spec.type, spec.version and the spec.metadata block.</summary>
    private static List<string> Skeleton(string file)
    {
        var kept = new List<string>();
        var inMetadata = false;
        foreach (var line in File.ReadAllLines(file))
        {
            if (line == "  metadata:")
            {
                inMetadata = true;
                continue;
            }

            if (inMetadata && (line.StartsWith(' ') || line.Length == 0))
            {
                continue;
            }

            inMetadata = false;
            if (!line.StartsWith("  type:", StringComparison.Ordinal) && !line.StartsWith("  version:", StringComparison.Ordinal))
            {
                kept.Add(line);
            }
        }

        return kept;
    }

    public static IEnumerable<Finding> Check(RepoTree repo, Region region)
    {
        ArgumentNullException.ThrowIfNull(region);
        var findings = Names(repo, region).Concat(ActorStore(repo, region)).Concat(Scopes(repo, region)).Concat(TopicScopes(repo, region))
            .Concat(Resiliency(repo, region)).Concat(Metadata(repo, region)).Concat(Configuration(repo, region));
        return region.IsLocal ? findings : findings.Concat(Secrets(repo, region)).Concat(Kustomization(repo, region)).Concat(Residency(repo, region));
    }

    /// <summary>Every region defines exactly the component names of FanVote.Contracts (secret stores aside).</summary>
    public static IEnumerable<Finding> Names(RepoTree repo, Region region)
    {
        var appFacing = region.Components.Where(c => c.Block != "secretstores").ToList();
        foreach (var missing in Known.ComponentNameSet.Where(n => appFacing.All(c => c.Name != n)).Order(StringComparer.Ordinal))
        {
            yield return new Finding(Rules.Names, repo.Rel(region.ResourcesDir), $"defines no component '{missing}' (every region defines {string.Join(", ", Known.ComponentNameSet)})");
        }

        foreach (var c in appFacing.Where(c => !Known.ComponentNameSet.Contains(c.Name)))
        {
            yield return new Finding(Rules.Names, repo.Rel(c.File), $"component '{c.Name}' is not a name of FanVote.Contracts ComponentNames, so no app can use it the same way in every region");
        }

        foreach (var twice in region.Components.GroupBy(c => c.Name).Where(g => g.Count() > 1))
        {
            yield return new Finding(Rules.Names, repo.Rel(region.ResourcesDir), $"component '{twice.Key}' is defined {twice.Count()} times ({string.Join(", ", twice.Select(c => repo.Rel(c.File)))})");
        }
    }

    public static IEnumerable<Finding> ActorStore(RepoTree repo, Region region)
    {
        var stores = region.Components.Where(c => c.Block == "state" && string.Equals(c.Value("actorStateStore"), "true", StringComparison.OrdinalIgnoreCase)).ToList();
        if (stores.Count != 1)
        {
            yield return new Finding(Rules.ActorStore, repo.Rel(region.ResourcesDir),
                $"{stores.Count} state components set actorStateStore: \"true\" ({string.Join(", ", stores.Select(s => s.Name))}); exactly one must");
        }
    }

    /// <summary>Components, resiliency and subscriptions list scopes, and only app ids of FanVote.Contracts AppIds.</summary>
    public static IEnumerable<Finding> Scopes(RepoTree repo, Region region)
    {
        var scoped = region.Components.Select(c => (Kind: "component", c.Name, c.Scopes, c.File))
            .Concat(region.Resiliencies.Select(r => (Kind: "resiliency", r.Name, r.Scopes, r.File)));
        foreach (var (kind, name, scopes, file) in scoped)
        {
            if (scopes is not { Count: > 0 })
            {
                yield return new Finding(Rules.Scopes, repo.Rel(file), $"{kind} '{name}' has no scopes, so every app id (also a stranger's) loads it");
                continue;
            }

            foreach (var s in scopes.Where(s => !Known.AppIdSet.Contains(s)))
            {
                yield return new Finding(Rules.Scopes, repo.Rel(file), $"{kind} '{name}' is scoped to '{s}', which is not an app id (FanVote.Contracts AppIds: {string.Join(", ", Known.AppIdSet)})");
            }
        }
    }

    /// <summary>
    /// Who may publish and read each topic (README "Trust"): the vote-bus component of every region lists every topic
    /// of FanVote.Contracts in allowedTopics and protectedTopics, and its publishingScopes / subscriptionScopes say
    /// exactly what <see cref="Topics.Scopes"/> says: one more app able to publish votes, and a forged vote has a way in.
    /// </summary>
    public static IEnumerable<Finding> TopicScopes(RepoTree repo, Region region)
    {
        var bus = region.Components.FirstOrDefault(c => c.Name == ComponentNames.VoteBus);
        if (bus is null)
        {
            yield break; // Names reports it.
        }

        var where = repo.Rel(bus.File);
        var topics = Topics.Scopes.Select(t => t.Topic).ToHashSet(StringComparer.Ordinal);
        foreach (var list in new[] { "allowedTopics", "protectedTopics" })
        {
            var listed = Split(bus.Value(list), ',').ToHashSet(StringComparer.Ordinal);
            foreach (var missing in topics.Except(listed).Order(StringComparer.Ordinal))
            {
                yield return new Finding(Rules.TopicScopes, where, $"{list} leaves out '{missing}', so {(list == "allowedTopics" ? "an app may publish to a topic nobody checks" : "any app may publish and subscribe to it")}");
            }

            foreach (var extra in listed.Except(topics).Order(StringComparer.Ordinal))
            {
                yield return new Finding(Rules.TopicScopes, where, $"{list} lists '{extra}', which is not a topic of FanVote.Contracts Topics");
            }
        }

        foreach (var (setting, want) in new[]
        {
            ("publishingScopes", Known.AppIdSet.ToDictionary(a => a, a => Topics.Scopes.Where(t => t.Publishers.Contains(a)).Select(t => t.Topic).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal)),
            ("subscriptionScopes", Known.AppIdSet.ToDictionary(a => a, a => Topics.Scopes.Where(t => t.Subscribers.Contains(a)).Select(t => t.Topic).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal)),
        })
        {
            var got = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var entry in Split(bus.Value(setting), ';'))
            {
                var eq = entry.IndexOf('=', StringComparison.Ordinal);
                var app = eq < 0 ? entry : entry[..eq];
                got[app] = Split(eq < 0 ? "" : entry[(eq + 1)..], ',').ToHashSet(StringComparer.Ordinal);
            }

            foreach (var (app, topicsOfApp) in want.OrderBy(w => w.Key, StringComparer.Ordinal))
            {
                if (!got.TryGetValue(app, out var listed))
                {
                    yield return new Finding(Rules.TopicScopes, where, $"{setting} has no entry for '{app}' (write '{app}=' for none)");
                    continue;
                }

                foreach (var extra in listed.Except(topicsOfApp).Order(StringComparer.Ordinal))
                {
                    yield return new Finding(Rules.TopicScopes, where, $"{setting} lets '{app}' use '{extra}', which Topics.Scopes does not");
                }

                foreach (var missing in topicsOfApp.Except(listed).Order(StringComparer.Ordinal))
                {
                    yield return new Finding(Rules.TopicScopes, where, $"{setting} does not let '{app}' use '{missing}', which it needs (Topics.Scopes)");
                }
            }

            foreach (var stranger in got.Keys.Where(k => !Known.AppIdSet.Contains(k)).Order(StringComparer.Ordinal))
            {
                yield return new Finding(Rules.TopicScopes, where, $"{setting} names '{stranger}', which is not an app id");
            }
        }
    }

    private static string[] Split(string? value, char separator) =>
        (value ?? "").Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// A Resiliency whose targets name real components and defined policies, with inbound retries for vote-bus
    /// and a circuit breaker for vote-bus and fanvote-state.
    /// </summary>
    public static IEnumerable<Finding> Resiliency(RepoTree repo, Region region)
    {
        if (region.Resiliencies.Count == 0)
        {
            yield return new Finding(Rules.Resiliency, repo.Rel(region.ResourcesDir), "has no Resiliency: without retries a failed delivery is acknowledged and the vote is lost");
            yield break;
        }

        var names = region.Components.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var r in region.Resiliencies)
        {
            foreach (var (target, (inbound, outbound)) in r.Components)
            {
                if (!names.Contains(target))
                {
                    yield return new Finding(Rules.Resiliency, repo.Rel(r.File), $"targets component '{target}', which this region does not define");
                }

                foreach (var (direction, refs) in new[] { ("inbound", inbound), ("outbound", outbound) })
                {
                    foreach (var f in PolicyRefs(repo, r, $"{target}.{direction}", refs))
                    {
                        yield return f;
                    }
                }
            }
        }

        var voteBus = region.Resiliencies.Where(r => r.Components.ContainsKey(ComponentNames.VoteBus)).ToList();
        var inboundRetry = voteBus.Select(r => (r, Retry: YamlDoc.Str(r.Components[ComponentNames.VoteBus].Inbound, "retry")))
            .FirstOrDefault(x => x.Retry is not null);
        if (inboundRetry.Retry is null)
        {
            yield return new Finding(Rules.Resiliency, repo.Rel(region.ResourcesDir), $"no inbound retry for '{ComponentNames.VoteBus}': a vote whose handler fails once is acknowledged and lost");
        }
        else if (inboundRetry.r.Retries.TryGetValue(inboundRetry.Retry, out var policy) && YamlDoc.Str(policy, "maxRetries") == "0")
        {
            yield return new Finding(Rules.Resiliency, repo.Rel(inboundRetry.r.File), $"inbound retry '{inboundRetry.Retry}' of '{ComponentNames.VoteBus}' has maxRetries 0, so it never retries");
        }

        foreach (var component in new[] { ComponentNames.VoteBus, ComponentNames.State })
        {
            var hasBreaker = region.Resiliencies.Any(r => r.Components.TryGetValue(component, out var t) &&
                (YamlDoc.Str(t.Inbound, "circuitBreaker") is not null || YamlDoc.Str(t.Outbound, "circuitBreaker") is not null));
            if (!hasBreaker)
            {
                yield return new Finding(Rules.Resiliency, repo.Rel(region.ResourcesDir), $"no circuit breaker for '{component}': callers would queue behind a broker or store that is down");
            }
        }
    }

    /// <summary>The metadata each component type needs to start (and, for the broker, not to lose votes).</summary>
    public static IEnumerable<Finding> Metadata(RepoTree repo, Region region)
    {
        foreach (var c in region.Components)
        {
            var required = c.Type switch
            {
                "pubsub.redis" or "state.redis" => ["redisHost"],
                "pubsub.kafka" => ["brokers", "consumerGroup", "authType"],
                "state.postgresql" => c.Has("host") ? ["host"] : new[] { "connectionString" },
                "secretstores.local.file" => ["secretsFile"],
                "secretstores.local.env" or "secretstores.kubernetes" or "pubsub.in-memory" or "state.in-memory" => [],
                _ => (string[]?)null,
            };
            if (required is null)
            {
                yield return new Finding(Rules.Metadata, repo.Rel(c.File), $"component '{c.Name}' has type '{c.Type}', for which no metadata rule exists; add one to {nameof(RegionRules)}.{nameof(Metadata)}");
                continue;
            }

            foreach (var name in required.Where(n => !c.Has(n)))
            {
                yield return new Finding(Rules.Metadata, repo.Rel(c.File), $"component '{c.Name}' ({c.Type}) has no '{name}'");
            }

            foreach (var f in TypeSpecific(repo, c))
            {
                yield return f;
            }
        }
    }

    /// <summary>Outside local/, anything that names a host, a user or a credential comes from the secret store.</summary>
    public static IEnumerable<Finding> Secrets(RepoTree repo, Region region)
    {
        var stores = region.Components.Where(c => c.Block == "secretstores").Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var c in region.Components.Where(c => c.Block != "secretstores"))
        {
            foreach (var item in c.Metadata.Where(i => SensitiveName().IsMatch(i.Name) && !i.IsSecretRef))
            {
                yield return new Finding(Rules.Secrets, repo.Rel(c.File), $"component '{c.Name}' sets '{item.Name}' in the file; outside local/ it must be a secretKeyRef");
            }

            if (c.Metadata.Any(i => i.IsSecretRef))
            {
                if (c.SecretStore is null)
                {
                    yield return new Finding(Rules.Secrets, repo.Rel(c.File), $"component '{c.Name}' uses secretKeyRef but names no auth.secretStore");
                }
                else if (!stores.Contains(c.SecretStore))
                {
                    yield return new Finding(Rules.Secrets, repo.Rel(c.File), $"component '{c.Name}' names secret store '{c.SecretStore}', which this region does not define");
                }
            }
        }
    }

    public static IEnumerable<Finding> Configuration(RepoTree repo, Region region)
    {
        if (region.Configuration is not { Kind: "Configuration" } cfg)
        {
            yield return new Finding(Rules.Configuration, repo.Rel(region.ConfigFile), "is missing or holds no 'kind: Configuration' (./fanvote up --region and daprd --config read it)");
        }
        else if (string.IsNullOrEmpty(cfg.Name))
        {
            yield return new Finding(Rules.Configuration, repo.Rel(region.ConfigFile), "the Configuration has no metadata.name");
        }
    }

    /// <summary>kustomization.yaml applies every resource of the region and config.yaml, with Kubernetes Secrets for the refs.</summary>
    public static IEnumerable<Finding> Kustomization(RepoTree repo, Region region)
    {
        var file = Path.Combine(region.Dir, "kustomization.yaml");
        if (!File.Exists(file))
        {
            yield return new Finding(Rules.Kustomization, repo.Rel(file), "is missing: it is how the region's components reach a cluster (kubectl apply -k, tilt up)");
            yield break;
        }

        var doc = YamlDoc.ReadAll(file).Single();
        var listed = YamlDoc.List(doc.Root, "resources").OfType<string>().Select(r => Path.GetFullPath(Path.Combine(region.Dir, r))).ToHashSet(StringComparer.Ordinal);
        var wanted = Directory.EnumerateFiles(region.ResourcesDir, "*.yaml")
            .Where(f => YamlDoc.ReadAll(f).Any(d => d.Kind is "Resiliency" or "Subscription" || (d.Kind == "Component" && ComponentDoc.From(d).Block != "secretstores")))
            .Append(region.ConfigFile);
        foreach (var f in wanted.Where(f => !listed.Contains(f)))
        {
            yield return new Finding(Rules.Kustomization, repo.Rel(file), $"does not list {Path.GetRelativePath(region.Dir, f)}, so a cluster would run without it");
        }

        var patches = YamlDoc.List(doc.Root, "patches").OfType<IReadOnlyDictionary<string, object?>>().Select(p => YamlDoc.Str(p, "patch") ?? "");
        if (region.Components.Any(c => c.Metadata.Any(i => i.IsSecretRef)) && !patches.Any(p => p.Contains("secretStore", StringComparison.Ordinal) && p.Contains("kubernetes", StringComparison.Ordinal)))
        {
            yield return new Finding(Rules.Kustomization, repo.Rel(file), "no patch points the components' auth.secretStore at `kubernetes`, so their secretKeyRefs would not resolve on a cluster");
        }
    }

    /// <summary>The label every resource of a cluster region carries: which region's data it holds.</summary>
    public const string RegionLabel = "fanvote.io/region";

    /// <summary>
    /// Residency (issue 16, components/README.md "Residency"): a cluster region keeps its fans' personal data in its own
    /// stores. Its kustomization labels every resource with <see cref="RegionLabel"/> = the folder's name; no file of the
    /// region names another region (its hosts come only from its own secret store: <see cref="Secrets"/>); and its
    /// components are pub/sub, state and secret stores only: no binding or other component type that could carry data
    /// out of the region.
    /// </summary>
    public static IEnumerable<Finding> Residency(RepoTree repo, Region region)
    {
        ArgumentNullException.ThrowIfNull(repo);
        ArgumentNullException.ThrowIfNull(region);
        var kustomization = Path.Combine(region.Dir, "kustomization.yaml");
        if (File.Exists(kustomization))
        {
            var doc = YamlDoc.ReadAll(kustomization).Single();
            var labels = YamlDoc.List(doc.Root, "labels").OfType<IReadOnlyDictionary<string, object?>>()
                .Select(l => YamlDoc.Str(YamlDoc.Map(l, "pairs"), RegionLabel)).ToList();
            if (!labels.Contains(region.Name))
            {
                yield return new Finding(Rules.Residency, repo.Rel(kustomization), $"does not label its resources {RegionLabel}: {region.Name} (labels: - pairs: {{ {RegionLabel}: {region.Name} }})");
            }
        }

        var others = repo.Regions().Where(r => !r.IsLocal && r.Name != region.Name).Select(r => r.Name).ToList();
        foreach (var file in Directory.EnumerateFiles(region.Dir, "*.yaml", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            foreach (var other in others.Where(o => text.Contains(o, StringComparison.Ordinal)))
            {
                yield return new Finding(Rules.Residency, repo.Rel(file), $"names region '{other}': a region's components reach only its own stores");
            }
        }

        foreach (var c in region.Components.Where(c => c.Block is not ("pubsub" or "state" or "secretstores")))
        {
            yield return new Finding(Rules.Residency, repo.Rel(c.File), $"component '{c.Name}' is a {c.Type}: a region runs only pub/sub, state and secret stores, nothing that sends data elsewhere");
        }
    }

    private static IEnumerable<Finding> TypeSpecific(RepoTree repo, ComponentDoc c)
    {
        if (c.Type == "pubsub.redis")
        {
            foreach (var trim in new[] { "maxLenApprox", "streamTTL" }.Where(c.Has))
            {
                yield return new Finding(Rules.Metadata, repo.Rel(c.File), $"component '{c.Name}' sets '{trim}': trimming a stream drops entries nobody has read yet, which loses votes");
            }
        }

        if (c.Type == "pubsub.kafka")
        {
            if (c.Value("consumerGroup") is { } group && !group.Contains("{appID}", StringComparison.Ordinal))
            {
                yield return new Finding(Rules.Metadata, repo.Rel(c.File), $"component '{c.Name}' has consumerGroup '{group}' without {{appID}}: tally and fraud would share one group and each get only part of the votes");
            }

            var auth = c.Value("authType");
            if (auth is not null && !KafkaAuthTypes.Contains(auth))
            {
                yield return new Finding(Rules.Metadata, repo.Rel(c.File), $"component '{c.Name}' has authType '{auth}' (one of {string.Join(", ", KafkaAuthTypes)})");
            }

            string[] authNeeds = auth?.ToLowerInvariant() switch
            {
                "password" => ["saslUsername", "saslPassword"],
                "oidc" => ["oidcTokenEndpoint", "oidcClientID", "oidcClientSecret"],
                "mtls" => ["clientCert", "clientKey"],
                "certificate" => ["caCert"],
                _ => [],
            };
            foreach (var name in authNeeds.Where(n => !c.Has(n)))
            {
                yield return new Finding(Rules.Metadata, repo.Rel(c.File), $"component '{c.Name}' has authType '{auth}' but no '{name}'");
            }

            if (c.Value("initialOffset") is { } offset && offset is not ("newest" or "oldest"))
            {
                yield return new Finding(Rules.Metadata, repo.Rel(c.File), $"component '{c.Name}' has initialOffset '{offset}' (newest or oldest)");
            }
        }

        if (c.Type == "state.postgresql" && c.Version is not ("v1" or "v2"))
        {
            yield return new Finding(Rules.Metadata, repo.Rel(c.File), $"component '{c.Name}' has state.postgresql version '{c.Version}' (v1 or v2)");
        }
    }

    private static IEnumerable<Finding> PolicyRefs(RepoTree repo, ResiliencyDoc r, string where, IReadOnlyDictionary<string, object?> refs)
    {
        if (YamlDoc.Str(refs, "retry") is { } retry && !r.Retries.ContainsKey(retry))
        {
            yield return new Finding(Rules.Resiliency, repo.Rel(r.File), $"{where} names retry '{retry}', which policies.retries does not define");
        }

        if (YamlDoc.Str(refs, "timeout") is { } timeout && !r.Timeouts.Contains(timeout) && !Duration().IsMatch(timeout))
        {
            yield return new Finding(Rules.Resiliency, repo.Rel(r.File), $"{where} names timeout '{timeout}', which policies.timeouts does not define");
        }

        if (YamlDoc.Str(refs, "circuitBreaker") is { } breaker && !r.CircuitBreakers.Contains(breaker))
        {
            yield return new Finding(Rules.Resiliency, repo.Rel(r.File), $"{where} names circuit breaker '{breaker}', which policies.circuitBreakers does not define");
        }
    }

    [GeneratedRegex("(password|secret|connectionString|host|brokers|username|clientKey|clientCert|caCert|token|accessKey|secretKey)$", RegexOptions.IgnoreCase)]
    private static partial Regex SensitiveName();

    [GeneratedRegex(@"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")]
    private static partial Regex Duration();
}
