using System.Collections.Concurrent;
using FanVote.Sidecar.Components;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FanVote.Sidecar.Resiliency;

/// <summary>
/// The entry point other parts of the sidecar use: <c>policies.For(PolicyTarget.Component("vote-bus", "pubsub",
/// ComponentDirection.Inbound)).ExecuteAsync(...)</c>. Policies are resolved once per target; circuit breakers
/// keep their state per target for the life of the process.
/// </summary>
public sealed class ResiliencyPolicies(ComponentRegistry registry, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, ResiliencyPolicy> _cache = new(StringComparer.Ordinal);

    public ResiliencyPolicy For(PolicyTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return _cache.GetOrAdd(target.Key, _ =>
        {
            var resolved = PolicyResolver.Resolve(registry.Resources.Resiliencies, target);
            var breaker = resolved.CircuitBreaker is { } cb ? new CircuitBreaker(cb, time) : null;
            return new ResiliencyPolicy(resolved, breaker, time);
        });
    }

    public ResiliencyPolicy ForComponent(string name, string block, ComponentDirection direction) =>
        For(PolicyTarget.Component(name, block, direction));
}

public static class ResiliencyServices
{
    /// <summary>Registers <see cref="ResiliencyPolicies"/>; safe to call from several areas (TryAdd).</summary>
    public static IServiceCollection AddSidecarResiliency(this IServiceCollection services)
    {
        services.TryAddSingleton<ResiliencyPolicies>();
        return services;
    }
}
