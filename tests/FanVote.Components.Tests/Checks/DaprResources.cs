namespace FanVote.Components.Tests.Checks;

/// <summary>One item of a component's spec.metadata: a plain value, an envRef or a secretKeyRef.</summary>
public sealed record MetadataItem(string Name, string? Value, string? EnvRef, string? SecretName, string? SecretKey)
{
    public bool IsSecretRef => SecretName is not null;
}

/// <summary>A `kind: Component` document as written (nothing resolved: secrets stay references).</summary>
public sealed record ComponentDoc(string Name, string Type, string Version, IReadOnlyList<MetadataItem> Metadata, IReadOnlyList<string>? Scopes, string? SecretStore, string File)
{
    /// <summary>"pubsub", "state", "secretstores", ...</summary>
    public string Block => Type.Split('.')[0];

    public MetadataItem? Item(string name) => Metadata.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>A value, an envRef or a secretKeyRef: anything that can supply the item.</summary>
    public bool Has(string name) => Item(name) is { } i && (i.IsSecretRef || i.EnvRef is not null || !string.IsNullOrEmpty(i.Value));

    public string? Value(string name) => Item(name)?.Value;

    public static ComponentDoc From(YamlDoc doc)
    {
        var spec = YamlDoc.Map(doc.Root, "spec");
        var items = YamlDoc.List(spec, "metadata").OfType<IReadOnlyDictionary<string, object?>>().Select(m =>
        {
            var secret = YamlDoc.Map(m, "secretKeyRef");
            return new MetadataItem(
                YamlDoc.Str(m, "name") ?? "",
                YamlDoc.Str(m, "value"),
                YamlDoc.Str(m, "envRef"),
                secret.Count == 0 ? null : YamlDoc.Str(secret, "name") ?? "",
                YamlDoc.Str(secret, "key"));
        }).ToList();
        return new ComponentDoc(
            doc.Name ?? "",
            YamlDoc.Str(spec, "type") ?? "",
            YamlDoc.Str(spec, "version") ?? "",
            items,
            ScopesOf(doc),
            YamlDoc.Str(YamlDoc.Map(doc.Root, "auth"), "secretStore"),
            doc.File);
    }

    /// <summary>Top-level scopes, or null when the document has none (which means: every app).</summary>
    public static IReadOnlyList<string>? ScopesOf(YamlDoc doc) =>
        doc.Root.TryGetValue("scopes", out var s) && s is IReadOnlyList<object?> l ? [.. l.OfType<string>()] : null;
}

/// <summary>A `kind: Resiliency` document: its scopes, named policies and targets.</summary>
public sealed record ResiliencyDoc(
    string Name,
    IReadOnlyList<string>? Scopes,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> Retries,
    IReadOnlySet<string> Timeouts,
    IReadOnlySet<string> CircuitBreakers,
    IReadOnlyDictionary<string, (IReadOnlyDictionary<string, object?> Inbound, IReadOnlyDictionary<string, object?> Outbound)> Components,
    string File)
{
    public static ResiliencyDoc From(YamlDoc doc)
    {
        var policies = YamlDoc.Map(doc.At("spec"), "policies");
        var retries = YamlDoc.Map(policies, "retries").ToDictionary(
            kv => kv.Key, kv => kv.Value as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>(), StringComparer.Ordinal);
        var components = YamlDoc.Map(YamlDoc.Map(doc.At("spec"), "targets"), "components").ToDictionary(
            kv => kv.Key,
            kv => (YamlDoc.Map(kv.Value, "inbound"), YamlDoc.Map(kv.Value, "outbound")),
            StringComparer.Ordinal);
        return new ResiliencyDoc(
            doc.Name ?? "",
            ComponentDoc.ScopesOf(doc),
            retries,
            YamlDoc.Map(policies, "timeouts").Keys.ToHashSet(StringComparer.Ordinal),
            YamlDoc.Map(policies, "circuitBreakers").Keys.ToHashSet(StringComparer.Ordinal),
            components,
            doc.File);
    }
}

/// <summary>A declarative `kind: Subscription` (v1alpha1 or v2alpha1).</summary>
public sealed record SubscriptionDoc(string Name, string? PubsubName, string? Topic, string? DeadLetterTopic, string File)
{
    public static SubscriptionDoc From(YamlDoc doc)
    {
        var spec = doc.At("spec");
        return new SubscriptionDoc(doc.Name ?? "", YamlDoc.Str(spec, "pubsubname"), YamlDoc.Str(spec, "topic"), YamlDoc.Str(spec, "deadLetterTopic"), doc.File);
    }
}
