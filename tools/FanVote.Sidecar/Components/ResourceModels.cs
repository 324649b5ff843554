namespace FanVote.Sidecar.Components;

/// <summary>A `kind: Component` document, with its metadata values resolved (value, envRef or secretKeyRef).</summary>
public sealed record ComponentSpec(
    string Name,
    string Type,
    string Version,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Scopes,
    bool IgnoreErrors,
    string SourceFile)
{
    /// <summary>"pubsub", "state", "secretstores", ... (the part of the type before the first dot).</summary>
    public string Block => Type.Split('.')[0];

    public string? Get(string key) => Metadata.TryGetValue(key, out var v) ? v : null;

    public string GetOr(string key, string fallback) => Get(key) is { Length: > 0 } v ? v : fallback;

    public bool GetBool(string key) => bool.TryParse(Get(key), out var b) && b;

    public bool AppliesTo(string appId) => Scopes.Count == 0 || Scopes.Contains(appId, StringComparer.Ordinal);
}

public sealed record RouteRule(string Match, string Path);

public sealed record BulkSubscribeSpec(bool Enabled, int MaxMessagesCount = 100, int MaxAwaitDurationMs = 1000);

/// <summary>A subscription, from `GET /dapr/subscribe` (programmatic) or a `kind: Subscription` file (declarative).</summary>
public sealed record SubscriptionSpec(
    string PubsubName,
    string Topic,
    IReadOnlyList<RouteRule> Rules,
    string? DeadLetterTopic,
    BulkSubscribeSpec? BulkSubscribe,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Scopes,
    string Source)
{
    public bool RawPayload => Metadata.TryGetValue("rawPayload", out var v) && bool.TryParse(v, out var b) && b;
}

public sealed record StatusCodeMatcher(IReadOnlyList<(int From, int To)> HttpStatusCodes, IReadOnlyList<(int From, int To)> GrpcStatusCodes)
{
    public bool MatchesHttp(int code) => HttpStatusCodes.Count == 0 || HttpStatusCodes.Any(r => code >= r.From && code <= r.To);

    public bool MatchesGrpc(int code) => GrpcStatusCodes.Count == 0 || GrpcStatusCodes.Any(r => code >= r.From && code <= r.To);
}

/// <summary>A named retry policy: constant or exponential; MaxRetries -1 = forever.</summary>
public sealed record RetryPolicySpec(
    string Name,
    string Policy,
    TimeSpan Duration,
    TimeSpan MaxInterval,
    int MaxRetries,
    StatusCodeMatcher? Matching);

public sealed record CircuitBreakerSpec(string Name, int MaxRequests, TimeSpan Interval, TimeSpan Timeout, string Trip);

/// <summary>The timeout/retry/circuit-breaker names a target refers to.</summary>
public sealed record PolicyRef(string? Timeout, string? Retry, string? CircuitBreaker);

public sealed record ComponentTarget(PolicyRef? Inbound, PolicyRef? Outbound);

public sealed record ResiliencySpec(
    string Name,
    IReadOnlyList<string> Scopes,
    IReadOnlyDictionary<string, TimeSpan> Timeouts,
    IReadOnlyDictionary<string, RetryPolicySpec> Retries,
    IReadOnlyDictionary<string, CircuitBreakerSpec> CircuitBreakers,
    IReadOnlyDictionary<string, PolicyRef> Apps,
    IReadOnlyDictionary<string, PolicyRef> Actors,
    IReadOnlyDictionary<string, ComponentTarget> Components,
    string SourceFile)
{
    public bool AppliesTo(string appId) => Scopes.Count == 0 || Scopes.Contains(appId, StringComparer.Ordinal);
}

/// <summary>A `kind: Configuration` document; the local sidecar honours only tracing.samplingRate.</summary>
public sealed record ConfigurationSpec(string Name, double TracingSamplingRate, string SourceFile);

/// <summary>Everything found under --resources-path, filtered to this app id.</summary>
public sealed record ResourceSet(
    IReadOnlyList<ComponentSpec> Components,
    IReadOnlyList<SubscriptionSpec> Subscriptions,
    IReadOnlyList<ResiliencySpec> Resiliencies,
    ConfigurationSpec? Configuration);

public sealed class ResourceException(string message) : Exception(message);
