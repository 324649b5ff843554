using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FanVote.ServiceDefaults;

/// <summary>
/// One logger per category for the life of the app. Serilog's logger factory (what <c>AddSerilog</c> registers) makes
/// a new Serilog logger, with its own event-id cache, on every <c>CreateLogger</c>; ASP.NET Core's authentication
/// handlers are made per request and each asks for one, so every vote allocated loggers (about 1 KB, two per
/// request) and every open results stream kept them for its whole life (issue 18's heap dump). Microsoft's own
/// factory caches by category; this gives Serilog's the same.
/// </summary>
public sealed class CachingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    /// <summary>Replaces the <see cref="ILoggerFactory"/> registered last with one that caches its loggers.</summary>
    public static void Wrap(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var original = services.LastOrDefault(d => d.ServiceType == typeof(ILoggerFactory))
            ?? throw new InvalidOperationException("no ILoggerFactory is registered yet: call AddSerilog first");
        services.Remove(original);
        services.AddSingleton<ILoggerFactory>(sp => new CachingLoggerFactory(
            original.ImplementationInstance as ILoggerFactory
            ?? original.ImplementationFactory?.Invoke(sp) as ILoggerFactory
            ?? (ILoggerFactory)ActivatorUtilities.CreateInstance(sp, original.ImplementationType!)));
    }

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, inner.CreateLogger);

    public void AddProvider(ILoggerProvider provider)
    {
        _loggers.Clear(); // loggers made before would not write to it
        inner.AddProvider(provider);
    }

    public void Dispose() => inner.Dispose();
}
