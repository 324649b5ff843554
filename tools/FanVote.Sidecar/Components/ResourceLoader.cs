using System.Globalization;
using FanVote.Sidecar.Configuration;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace FanVote.Sidecar.Components;

/// <summary>
/// Reads Dapr resource YAML (Component, Subscription, Resiliency, Configuration) the way daprd does for
/// --resources-path: every *.yaml/*.yml file in each folder (not recursive), multi-document files allowed,
/// unknown kinds ignored, scopes applied to the app id.
/// </summary>
public static class ResourceLoader
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder().Build();

    public static ResourceSet Load(IEnumerable<string> resourcesPaths, string appId, string? configPath, Func<string, string?> env)
    {
        ArgumentNullException.ThrowIfNull(resourcesPaths);
        var docs = new List<(Dictionary<string, object?> Doc, string File)>();
        foreach (var path in resourcesPaths)
        {
            if (File.Exists(path))
            {
                docs.AddRange(ReadDocuments(path));
                continue;
            }

            if (!Directory.Exists(path))
            {
                throw new ResourceException($"resources path '{path}' does not exist");
            }

            foreach (var file in Directory.EnumerateFiles(path).Where(IsYaml).Order(StringComparer.Ordinal))
            {
                docs.AddRange(ReadDocuments(file));
            }
        }

        var rawComponents = docs.Where(d => Kind(d.Doc) == "Component").ToList();
        var firstPass = rawComponents.Select(d => ParseComponent(d.Doc, d.File, env, secrets: null)).ToList();
        ComponentRegistry.ValidateTypes(firstPass.Where(c => c.AppliesTo(appId)));
        var secrets = new SecretResolver(firstPass.Where(c => c.Block == "secretstores"), env);

        var components = new List<ComponentSpec>();
        foreach (var (doc, file) in rawComponents)
        {
            var c = ParseComponent(doc, file, env, secrets);
            if (!c.AppliesTo(appId))
            {
                continue;
            }

            if (components.Any(x => x.Name == c.Name))
            {
                throw new ResourceException($"component '{c.Name}' is defined twice (second definition in {file})");
            }

            components.Add(c);
        }

        var subscriptions = docs.Where(d => Kind(d.Doc) == "Subscription")
            .Select(d => ParseSubscription(d.Doc, d.File))
            .Where(s => s.Scopes.Count == 0 || s.Scopes.Contains(appId))
            .ToList();
        var resiliencies = docs.Where(d => Kind(d.Doc) == "Resiliency")
            .Select(d => ParseResiliency(d.Doc, d.File))
            .Where(r => r.AppliesTo(appId))
            .ToList();

        ConfigurationSpec? configuration = null;
        if (configPath is not null)
        {
            if (!File.Exists(configPath))
            {
                throw new ResourceException($"--config file '{configPath}' does not exist");
            }

            var cfg = ReadDocuments(configPath).FirstOrDefault(d => Kind(d.Doc) == "Configuration");
            if (cfg.Doc is null)
            {
                throw new ResourceException($"--config file '{configPath}' holds no 'kind: Configuration' document");
            }

            configuration = ParseConfiguration(cfg.Doc, cfg.File);
        }

        return new ResourceSet(components, subscriptions, resiliencies, configuration);
    }

    public static IEnumerable<(Dictionary<string, object?> Doc, string File)> ReadDocuments(string file)
    {
        using var reader = new StreamReader(file);
        var parser = new Parser(reader);
        parser.Consume<StreamStart>();
        var result = new List<(Dictionary<string, object?>, string)>();
        while (parser.Accept<DocumentStart>(out _))
        {
            object? doc;
            try
            {
                doc = Yaml.Deserialize<object?>(parser);
            }
            catch (YamlException e)
            {
                throw new ResourceException($"{file}: invalid YAML at line {e.Start.Line}: {e.Message}");
            }

            if (doc is Dictionary<object, object?> map)
            {
                result.Add((Normalize(map), file));
            }
        }

        return result;
    }

    private static bool IsYaml(string f) =>
        f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    private static string? Kind(Dictionary<string, object?> doc) => Str(doc, "kind");

    private static ComponentSpec ParseComponent(Dictionary<string, object?> doc, string file, Func<string, string?> env, SecretResolver? secrets)
    {
        var name = Str(Map(doc, "metadata"), "name") ?? throw new ResourceException($"{file}: component without metadata.name");
        var spec = Map(doc, "spec");
        var type = Str(spec, "type") ?? throw new ResourceException($"{file}: component '{name}' has no spec.type");
        var version = Str(spec, "version") ?? "v1";
        var secretStoreName = Str(Map(doc, "auth"), "secretStore");
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in List(spec, "metadata").OfType<Dictionary<string, object?>>())
        {
            var key = Str(item, "name") ?? throw new ResourceException($"{file}: component '{name}' has a metadata item without a name");
            if (item.ContainsKey("value"))
            {
                metadata[key] = Str(item, "value") ?? "";
            }
            else if (Str(item, "envRef") is { } envName)
            {
                metadata[key] = env(envName) ?? "";
            }
            else if (item.TryGetValue("secretKeyRef", out var refObj) && refObj is Dictionary<string, object?> secretRef)
            {
                if (secrets is null)
                {
                    continue; // first pass: types and the secret stores themselves, no secret resolved yet
                }

                var secretName = Str(secretRef, "name") ?? throw new ResourceException($"{file}: secretKeyRef of '{name}.{key}' has no name");
                metadata[key] = secrets.Resolve(name, key, secretName, Str(secretRef, "key"), secretStoreName, file);
            }
            else
            {
                metadata[key] = "";
            }
        }

        return new ComponentSpec(name, type, version, metadata, Strings(doc, "scopes"),
            string.Equals(Str(spec, "ignoreErrors"), "true", StringComparison.OrdinalIgnoreCase), file);
    }

    private static SubscriptionSpec ParseSubscription(Dictionary<string, object?> doc, string file)
    {
        var name = Str(Map(doc, "metadata"), "name") ?? "(unnamed)";
        var spec = Map(doc, "spec");
        var pubsub = Str(spec, "pubsubname") ?? throw new ResourceException($"{file}: subscription '{name}' has no spec.pubsubname");
        var topic = Str(spec, "topic") ?? throw new ResourceException($"{file}: subscription '{name}' has no spec.topic");
        var rules = new List<RouteRule>();
        var routes = Map(spec, "routes");
        foreach (var r in List(routes, "rules").OfType<Dictionary<string, object?>>())
        {
            rules.Add(new RouteRule(Str(r, "match") ?? "", Str(r, "path") ?? ""));
        }

        if (Str(routes, "default") is { Length: > 0 } def)
        {
            rules.Add(new RouteRule("", def));
        }
        else if (Str(spec, "route") is { Length: > 0 } route && rules.Count == 0)
        {
            rules.Add(new RouteRule("", route));
        }

        var bulkMap = Map(spec, "bulkSubscribe");
        BulkSubscribeSpec? bulk = bulkMap.Count == 0 ? null : new BulkSubscribeSpec(
            string.Equals(Str(bulkMap, "enabled"), "true", StringComparison.OrdinalIgnoreCase),
            Int(bulkMap, "maxMessagesCount") ?? 100,
            Int(bulkMap, "maxAwaitDurationMs") ?? 1000);
        var metadata = Map(spec, "metadata").ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "", StringComparer.OrdinalIgnoreCase);
        return new SubscriptionSpec(pubsub, topic, rules, Str(spec, "deadLetterTopic"), bulk, metadata, Strings(doc, "scopes"), file);
    }

    private static ResiliencySpec ParseResiliency(Dictionary<string, object?> doc, string file)
    {
        var name = Str(Map(doc, "metadata"), "name") ?? "(unnamed)";
        var spec = Map(doc, "spec");
        var policies = Map(spec, "policies");
        var timeouts = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (k, v) in Map(policies, "timeouts"))
        {
            timeouts[k] = ParseDuration(v?.ToString(), $"{file}: timeout '{k}'");
        }

        var retries = new Dictionary<string, RetryPolicySpec>(StringComparer.Ordinal);
        foreach (var (k, v) in Map(policies, "retries"))
        {
            var r = v as Dictionary<string, object?> ?? [];
            var policy = Str(r, "policy") ?? "constant";
            if (policy is not ("constant" or "exponential"))
            {
                throw new ResourceException($"{file}: retry '{k}' has policy '{policy}' (use constant or exponential)");
            }

            var matching = Map(r, "matching");
            retries[k] = new RetryPolicySpec(
                k,
                policy,
                Str(r, "duration") is { } d ? ParseDuration(d, $"{file}: retry '{k}' duration") : TimeSpan.FromSeconds(5),
                Str(r, "maxInterval") is { } mi ? ParseDuration(mi, $"{file}: retry '{k}' maxInterval") : TimeSpan.FromSeconds(60),
                Int(r, "maxRetries") ?? -1,
                matching.Count == 0 ? null : new StatusCodeMatcher(
                    ParseRanges(Str(matching, "httpStatusCodes"), $"{file}: retry '{k}' httpStatusCodes"),
                    ParseRanges(Str(matching, "gRPCStatusCodes"), $"{file}: retry '{k}' gRPCStatusCodes")));
        }

        var breakers = new Dictionary<string, CircuitBreakerSpec>(StringComparer.Ordinal);
        foreach (var (k, v) in Map(policies, "circuitBreakers"))
        {
            var c = v as Dictionary<string, object?> ?? [];
            breakers[k] = new CircuitBreakerSpec(
                k,
                Int(c, "maxRequests") ?? 1,
                Str(c, "interval") is { } i ? ParseDuration(i, $"{file}: circuit breaker '{k}' interval") : TimeSpan.Zero,
                Str(c, "timeout") is { } t ? ParseDuration(t, $"{file}: circuit breaker '{k}' timeout") : TimeSpan.FromSeconds(60),
                Str(c, "trip") ?? "consecutiveFailures > 5");
        }

        var targets = Map(spec, "targets");
        PolicyRef Ref(Dictionary<string, object?> m, string where)
        {
            var p = new PolicyRef(Str(m, "timeout"), Str(m, "retry"), Str(m, "circuitBreaker"));
            if (p.Timeout is not null && !timeouts.ContainsKey(p.Timeout) && !TryParseDuration(p.Timeout))
            {
                throw new ResourceException($"{file}: {where} names timeout '{p.Timeout}', which is not defined under policies.timeouts");
            }

            if (p.Retry is not null && !retries.ContainsKey(p.Retry))
            {
                throw new ResourceException($"{file}: {where} names retry '{p.Retry}', which is not defined under policies.retries");
            }

            if (p.CircuitBreaker is not null && !breakers.ContainsKey(p.CircuitBreaker))
            {
                throw new ResourceException($"{file}: {where} names circuit breaker '{p.CircuitBreaker}', which is not defined under policies.circuitBreakers");
            }

            return p;
        }

        var apps = Map(targets, "apps").ToDictionary(kv => kv.Key, kv => Ref(kv.Value as Dictionary<string, object?> ?? [], $"apps.{kv.Key}"), StringComparer.Ordinal);
        var actors = Map(targets, "actors").ToDictionary(kv => kv.Key, kv => Ref(kv.Value as Dictionary<string, object?> ?? [], $"actors.{kv.Key}"), StringComparer.Ordinal);
        var components = Map(targets, "components").ToDictionary(
            kv => kv.Key,
            kv =>
            {
                var m = kv.Value as Dictionary<string, object?> ?? [];
                var inbound = Map(m, "inbound");
                var outbound = Map(m, "outbound");
                return new ComponentTarget(
                    inbound.Count == 0 ? null : Ref(inbound, $"components.{kv.Key}.inbound"),
                    outbound.Count == 0 ? null : Ref(outbound, $"components.{kv.Key}.outbound"));
            },
            StringComparer.Ordinal);
        return new ResiliencySpec(name, Strings(doc, "scopes"), timeouts, retries, breakers, apps, actors, components, file);
    }

    private static ConfigurationSpec ParseConfiguration(Dictionary<string, object?> doc, string file)
    {
        var name = Str(Map(doc, "metadata"), "name") ?? "(unnamed)";
        var rate = Str(Map(Map(doc, "spec"), "tracing"), "samplingRate");
        return new ConfigurationSpec(name, double.TryParse(rate, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) ? r : 0, file);
    }

    private static List<(int, int)> ParseRanges(string? s, string where)
    {
        if (string.IsNullOrWhiteSpace(s))
        {
            return [];
        }

        var list = new List<(int, int)>();
        foreach (var part in s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && int.TryParse(part[..dash], CultureInfo.InvariantCulture, out var a) && int.TryParse(part[(dash + 1)..], CultureInfo.InvariantCulture, out var b) && a <= b)
            {
                list.Add((a, b));
            }
            else if (int.TryParse(part, CultureInfo.InvariantCulture, out var one))
            {
                list.Add((one, one));
            }
            else
            {
                throw new ResourceException($"{where}: '{part}' is not a status code or range like 500-599");
            }
        }

        return list;
    }

    private static TimeSpan ParseDuration(string? s, string where) =>
        Durations.TryParse(s, out var d) ? d : throw new ResourceException($"{where}: '{s}' is not a duration (e.g. 5s, 1m30s)");

    private static bool TryParseDuration(string s) => Durations.TryParse(s, out _);

    private static Dictionary<string, object?> Normalize(Dictionary<object, object?> map) =>
        map.ToDictionary(kv => kv.Key.ToString()!, kv => NormalizeValue(kv.Value), StringComparer.Ordinal);

    private static object? NormalizeValue(object? v) => v switch
    {
        Dictionary<object, object?> m => Normalize(m),
        List<object?> l => l.Select(NormalizeValue).ToList(),
        _ => v,
    };

    private static Dictionary<string, object?> Map(Dictionary<string, object?> m, string key) =>
        m.TryGetValue(key, out var v) && v is Dictionary<string, object?> d ? d : [];

    private static List<object?> List(Dictionary<string, object?> m, string key) =>
        m.TryGetValue(key, out var v) && v is List<object?> l ? l : [];

    private static string? Str(Dictionary<string, object?> m, string key) =>
        m.TryGetValue(key, out var v) && v is not null and not Dictionary<string, object?> and not List<object?> ? v.ToString() : null;

    private static int? Int(Dictionary<string, object?> m, string key) =>
        int.TryParse(Str(m, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static List<string> Strings(Dictionary<string, object?> m, string key) =>
        List(m, key).Where(x => x is not null).Select(x => x!.ToString()!).ToList();
}
