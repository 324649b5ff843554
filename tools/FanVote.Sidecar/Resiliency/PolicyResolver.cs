using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.Resiliency;

public enum TargetKind
{
    App,
    Actor,
    Component,
}

public enum ComponentDirection
{
    Inbound,
    Outbound,
}

/// <summary>
/// What a policy is for: an app (service invocation), an actor type, or a component in one direction.
/// <paramref name="ComponentBlock"/> is the type prefix ("pubsub", "state") that selects the default-policy names.
/// </summary>
public sealed record PolicyTarget(TargetKind Kind, string Name, ComponentDirection Direction = ComponentDirection.Outbound, string ComponentBlock = "")
{
    public static PolicyTarget Component(string name, string block, ComponentDirection direction) => new(TargetKind.Component, name, direction, block);

    public static PolicyTarget App(string appId) => new(TargetKind.App, appId);

    public static PolicyTarget Actor(string actorType) => new(TargetKind.Actor, actorType);

    public string Key => $"{Kind}/{Name}/{Direction}";
}

/// <summary>The three policies that apply to one target; each may be missing.</summary>
public sealed record ResolvedPolicy(RetryPolicySpec? Retry, TimeSpan? Timeout, CircuitBreakerSpec? CircuitBreaker)
{
    public static ResolvedPolicy Empty { get; } = new(null, null, null);
}

/// <summary>
/// Picks the policies for a target the way daprd does (docs/dapr-subset.md §8.2): the target's own entry first,
/// then the default-policy names from most to least specific. Several Resiliency documents are searched in
/// load order; the first one that answers wins.
/// </summary>
public static class PolicyResolver
{
    public static ResolvedPolicy Resolve(IReadOnlyList<ResiliencySpec> specs, PolicyTarget target)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(target);
        var explicitRef = FindRef(specs, target);
        var retry = FromRef(specs, explicitRef.Spec, explicitRef.Ref?.Retry, (s, n) => s.Retries.GetValueOrDefault(n))
            ?? FirstDefault(specs, DefaultNames(target, "Retry"), (s, n) => s.Retries.GetValueOrDefault(n));
        var timeout = TimeoutFromRef(explicitRef.Spec, explicitRef.Ref?.Timeout)
            ?? FirstDefault(specs, DefaultNames(target, "Timeout"), (s, n) => s.Timeouts.TryGetValue(n, out var t) ? (TimeSpan?)t : null);
        var breaker = FromRef(specs, explicitRef.Spec, explicitRef.Ref?.CircuitBreaker, (s, n) => s.CircuitBreakers.GetValueOrDefault(n))
            ?? FirstDefault(specs, DefaultNames(target, "CircuitBreaker"), (s, n) => s.CircuitBreakers.GetValueOrDefault(n));
        return new ResolvedPolicy(retry, timeout, breaker);
    }

    /// <summary>Default-policy names for a target, most specific first (e.g. DefaultPubsubComponentInboundRetryPolicy … DefaultRetryPolicy).</summary>
    public static IReadOnlyList<string> DefaultNames(PolicyTarget target, string policy)
    {
        ArgumentNullException.ThrowIfNull(target);
        var names = new List<string>();
        switch (target.Kind)
        {
            case TargetKind.Component:
                var dir = target.Direction.ToString();
                var kind = target.ComponentBlock switch
                {
                    "pubsub" => "Pubsub",
                    "state" => "Statestore",
                    _ => null,
                };
                if (kind is not null)
                {
                    names.Add($"Default{kind}Component{dir}{policy}Policy");
                }

                names.Add($"DefaultComponent{dir}{policy}Policy");
                names.Add($"DefaultComponent{policy}Policy");
                break;
            case TargetKind.App:
                names.Add($"DefaultApp{policy}Policy");
                break;
            case TargetKind.Actor:
                names.Add($"DefaultActor{policy}Policy");
                break;
            default:
                break;
        }

        names.Add($"Default{policy}Policy");
        return names;
    }

    private static (ResiliencySpec? Spec, PolicyRef? Ref) FindRef(IReadOnlyList<ResiliencySpec> specs, PolicyTarget target)
    {
        foreach (var s in specs)
        {
            PolicyRef? r = target.Kind switch
            {
                TargetKind.App => s.Apps.GetValueOrDefault(target.Name),
                TargetKind.Actor => s.Actors.GetValueOrDefault(target.Name),
                _ => s.Components.GetValueOrDefault(target.Name) is { } c
                    ? (target.Direction == ComponentDirection.Inbound ? c.Inbound : c.Outbound)
                    : null,
            };
            if (r is not null)
            {
                return (s, r);
            }
        }

        return (null, null);
    }

    private static T? FromRef<T>(IReadOnlyList<ResiliencySpec> specs, ResiliencySpec? owner, string? name, Func<ResiliencySpec, string, T?> get)
        where T : class
    {
        if (name is null)
        {
            return null;
        }

        // A target names a policy of its own document; fall back to the others so split files still work.
        return (owner is null ? null : get(owner, name)) ?? specs.Select(s => get(s, name)).FirstOrDefault(x => x is not null);
    }

    private static TimeSpan? TimeoutFromRef(ResiliencySpec? owner, string? name)
    {
        if (name is null)
        {
            return null;
        }

        if (owner is not null && owner.Timeouts.TryGetValue(name, out var t))
        {
            return t;
        }

        // daprd also accepts a duration written inline in the target instead of a policy name.
        return Configuration.Durations.TryParse(name, out var d) ? d : null;
    }

    private static T? FirstDefault<T>(IReadOnlyList<ResiliencySpec> specs, IReadOnlyList<string> names, Func<ResiliencySpec, string, T?> get)
    {
        foreach (var n in names)
        {
            foreach (var s in specs)
            {
                if (get(s, n) is { } v)
                {
                    return v;
                }
            }
        }

        return default;
    }
}
