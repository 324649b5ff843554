using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.PubSub;
using FanVote.Sidecar.State;

namespace FanVote.Sidecar.Components;

/// <summary>The components this sidecar loaded, by name. Built once at start-up; an unsupported type stops start-up.</summary>
public sealed class ComponentRegistry : IAsyncDisposable
{
    public static readonly IReadOnlyList<string> SupportedTypes =
    [
        "pubsub.redis", "pubsub.in-memory", "state.redis", "state.postgresql", "state.in-memory", "secretstores.local.env", "secretstores.local.file",
    ];

    private readonly Dictionary<string, IStateStore> _stateStores = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IPubSub> _pubSubs = new(StringComparer.Ordinal);

    public ComponentRegistry(ResourceSet resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        Resources = resources;
    }

    public ResourceSet Resources { get; }

    public IReadOnlyDictionary<string, IStateStore> StateStores => _stateStores;

    public IReadOnlyDictionary<string, IPubSub> PubSubs => _pubSubs;

    /// <summary>The one state store with actorStateStore: "true", or null (actor state calls then fail).</summary>
    public IStateStore? ActorStateStore { get; private set; }

    /// <summary>Checks every component type before anything connects, so the error names the file at once.</summary>
    public static void Validate(ResourceSet resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        ValidateTypes(resources.Components);
        var actorStores = resources.Components.Where(c => c.Block == "state" && c.GetBool("actorStateStore")).ToList();
        if (actorStores.Count > 1)
        {
            throw new ResourceException(
                $"more than one actor state store: {string.Join(", ", actorStores.Select(c => $"'{c.Name}' ({c.SourceFile})"))}; " +
                "set actorStateStore: \"true\" on exactly one state component");
        }
    }

    /// <summary>
    /// Only the types and versions: <see cref="ResourceLoader"/> runs this before it resolves any secret, so a folder
    /// made for daprd (Kafka, say) stops with this error rather than with one about a secret it never needed.
    /// </summary>
    public static void ValidateTypes(IEnumerable<ComponentSpec> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        foreach (var c in components)
        {
            if (!SupportedTypes.Contains(c.Type, StringComparer.Ordinal))
            {
                throw new ResourceException(
                    $"component '{c.Name}' in {c.SourceFile} has type '{c.Type}', which the FanVote local sidecar does not implement " +
                    $"(it implements {string.Join(", ", SupportedTypes)}). Run this app with daprd (the Dapr runtime) for '{c.Type}', " +
                    "or point --resources-path at a folder whose components the local sidecar supports (e.g. components/local/resources).");
            }

            if (c.Type == "state.postgresql" && c.Version is not ("v1" or "v2"))
            {
                throw new ResourceException($"component '{c.Name}' in {c.SourceFile}: state.postgresql version '{c.Version}' is unknown (use v1 or v2)");
            }
        }
    }

    public async Task InitializeAsync(SidecarOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Validate(Resources);
        var log = loggerFactory.CreateLogger<ComponentRegistry>();
        foreach (var c in Resources.Components)
        {
            try
            {
                switch (c.Block)
                {
                    case "state":
                        IStateStore store = c.Type switch
                        {
                            "state.redis" => new RedisStateStore(c, loggerFactory.CreateLogger<RedisStateStore>()),
                            "state.postgresql" => new PostgresStateStore(c, loggerFactory.CreateLogger<PostgresStateStore>()),
                            _ => new InMemoryStateStore(c),
                        };
                        await store.InitAsync(cancellationToken);
                        _stateStores[c.Name] = store;
                        if (c.GetBool("actorStateStore"))
                        {
                            ActorStateStore = store;
                        }

                        break;
                    case "pubsub":
                        IPubSub pubsub = c.Type switch
                        {
                            "pubsub.redis" => new RedisStreamsPubSub(c, options.AppId, loggerFactory.CreateLogger<RedisStreamsPubSub>()),
                            _ => new InMemoryPubSub(c, loggerFactory.CreateLogger<InMemoryPubSub>()),
                        };
                        await pubsub.InitAsync(cancellationToken);
                        _pubSubs[c.Name] = pubsub;
                        break;
                    default:
                        break;
                }

                SidecarLog.ComponentLoaded(log, c.Name, c.Type, c.Version);
            }
            catch (Exception e) when (c.IgnoreErrors && e is not OperationCanceledException)
            {
                SidecarLog.ComponentIgnored(log, e, c.Name, c.Type);
            }
            catch (Exception e) when (e is not OperationCanceledException and not ResourceException)
            {
                throw new ResourceException($"component '{c.Name}' ({c.Type}, {c.SourceFile}) failed to initialise: {e.Message}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _pubSubs.Values)
        {
            await p.DisposeAsync();
        }

        foreach (var s in _stateStores.Values)
        {
            await s.DisposeAsync();
        }
    }
}
