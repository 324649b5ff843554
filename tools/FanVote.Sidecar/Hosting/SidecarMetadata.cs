using System.Collections.Concurrent;
using Dapr.Client.Autogen.Grpc.v1;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;

namespace FanVote.Sidecar.Hosting;

/// <summary>What `GetMetadata` / `GET /v1.0/metadata` report. Subscriptions and actors fill in their parts at start-up.</summary>
public sealed class SidecarMetadata(SidecarOptions options, ComponentRegistry components)
{
    public const string RuntimeVersion = "fanvote-local-sidecar/1.0";

    private readonly ConcurrentDictionary<string, SubscriptionSpec> _subscriptions = new(StringComparer.Ordinal);

    /// <summary>Actor types this app hosts (from /dapr/config).</summary>
    public IReadOnlyList<string> HostedActorTypes { get; set; } = [];

    /// <summary>Active actor count per type, supplied by the actor runtime.</summary>
    public Func<IReadOnlyDictionary<string, int>> ActiveActors { get; set; } = () => new Dictionary<string, int>();

    /// <summary>Open workflow work-item streams (daprd's `workflows.connectedWorkers`), supplied by the workflow engine.</summary>
    public Func<int> ConnectedWorkflowWorkers { get; set; } = () => 0;

    /// <summary>"RUNNING", "INITIALIZING" or "DISABLED".</summary>
    public string ActorRuntimeStatus { get; set; } = "INITIALIZING";

    public IReadOnlyCollection<SubscriptionSpec> Subscriptions => _subscriptions.Values.ToList();

    public void AddSubscription(SubscriptionSpec s)
    {
        ArgumentNullException.ThrowIfNull(s);
        _subscriptions[$"{s.PubsubName}/{s.Topic}"] = s;
    }

    public GetMetadataResponse ToGrpc()
    {
        var r = new GetMetadataResponse
        {
            Id = options.AppId,
            RuntimeVersion = RuntimeVersion,
            ActorRuntime = new ActorRuntime
            {
                RuntimeStatus = ActorRuntimeStatus switch
                {
                    "RUNNING" => ActorRuntime.Types.ActorRuntimeStatus.Running,
                    "DISABLED" => ActorRuntime.Types.ActorRuntimeStatus.Disabled,
                    _ => ActorRuntime.Types.ActorRuntimeStatus.Initializing,
                },
                HostReady = ActorRuntimeStatus == "RUNNING",
                Placement = "connected",
            },
            AppConnectionProperties = new AppConnectionProperties
            {
                Port = options.AppPort ?? 0,
                Protocol = options.AppProtocol,
                ChannelAddress = options.AppChannelAddress,
                MaxConcurrency = options.AppMaxConcurrency,
            },
        };
        foreach (var (type, count) in ActiveActors())
        {
            r.ActorRuntime.ActiveActors.Add(new ActiveActorsCount { Type = type, Count = count });
#pragma warning disable CS0612 // deprecated alias daprd still fills (field 2); SDKs of other languages read it
            r.ActiveActorsCount.Add(new ActiveActorsCount { Type = type, Count = count });
#pragma warning restore CS0612
        }

        r.Workflows = new MetadataWorkflows { ConnectedWorkers = ConnectedWorkflowWorkers() };

        foreach (var c in components.Resources.Components)
        {
            var rc = new RegisteredComponents { Name = c.Name, Type = c.Type, Version = c.Version };
            rc.Capabilities.AddRange(Capabilities(c));
            r.RegisteredComponents.Add(rc);
        }

        foreach (var s in _subscriptions.Values)
        {
            var ps = new PubsubSubscription { PubsubName = s.PubsubName, Topic = s.Topic, DeadLetterTopic = s.DeadLetterTopic ?? "" };
            ps.Metadata.Add(s.Metadata.ToDictionary());
            ps.Rules = new PubsubSubscriptionRules();
            ps.Rules.Rules.AddRange(s.Rules.Select(x => new PubsubSubscriptionRule { Match = x.Match, Path = x.Path }));
            r.Subscriptions.Add(ps);
        }

        r.ExtendedMetadata.Add(Extended());
        return r;
    }

    /// <summary>daprd's `extended` metadata (what `PUT /v1.0/metadata/{key}` would add is not offered).</summary>
    private static Dictionary<string, string> Extended() => new()
    {
        ["daprRuntimeVersion"] = RuntimeVersion,
        ["appCommand"] = "",
    };

    /// <summary>daprd's HTTP shape (pkg/api/http/metadata.go): `actors` is the alias of actorRuntime.activeActors.</summary>
    public object ToJson() => new
    {
        id = options.AppId,
        runtimeVersion = RuntimeVersion,
        enabledFeatures = Array.Empty<string>(),
        actors = ActiveActors().Select(kv => new { type = kv.Key, count = kv.Value }),
        extended = Extended(),
        workflows = new { connectedWorkers = ConnectedWorkflowWorkers() },
        actorRuntime = new
        {
            runtimeStatus = ActorRuntimeStatus,
            activeActors = ActiveActors().Select(kv => new { type = kv.Key, count = kv.Value }),
            hostReady = ActorRuntimeStatus == "RUNNING",
            placement = "connected",
        },
        components = components.Resources.Components.Select(c => new { name = c.Name, type = c.Type, version = c.Version, capabilities = Capabilities(c) }),
        subscriptions = _subscriptions.Values.Select(s => new
        {
            pubsubname = s.PubsubName,
            topic = s.Topic,
            deadLetterTopic = s.DeadLetterTopic,
            metadata = s.Metadata,
            rules = s.Rules.Select(x => new { match = x.Match, path = x.Path }),
        }),
        appConnectionProperties = new
        {
            port = options.AppPort,
            protocol = options.AppProtocol,
            channelAddress = options.AppChannelAddress,
            maxConcurrency = options.AppMaxConcurrency,
        },
    };

    private static string[] Capabilities(ComponentSpec c) => c.Type switch
    {
        "state.redis" or "state.postgresql" or "state.in-memory" =>
            c.GetBool("actorStateStore") ? ["ETAG", "TRANSACTIONAL", "TTL", "ACTOR"] : ["ETAG", "TRANSACTIONAL", "TTL"],
        "pubsub.redis" => [],
        "pubsub.in-memory" => ["SUBSCRIBE_WILDCARDS"],
        _ => [],
    };
}
