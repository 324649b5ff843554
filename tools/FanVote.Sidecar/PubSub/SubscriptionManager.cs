using System.Collections.Concurrent;
using System.Net;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.Hosting;
using FanVote.Sidecar.Resiliency;

namespace FanVote.Sidecar.PubSub;

/// <summary>
/// Start-up step "subscriptions" (after actors' /dapr/config): reads <c>GET /dapr/subscribe</c>, merges the
/// declarative subscriptions, compiles the routing rules (an unsupported rule stops start-up), registers them
/// for GetMetadata and starts one consumer per subscription. Without an app there are no subscriptions.
/// </summary>
public sealed class SubscriptionManager(
    SidecarOptions options,
    ComponentRegistry registry,
    AppChannel channel,
    SidecarMetadata metadata,
    ResiliencyPolicies policies,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers) : IAppStartupParticipant
{
    private static readonly TimeSpan[] SubscribeBackoff = [TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1)];

    private readonly ConcurrentDictionary<string, string> _consumerIds = new(StringComparer.Ordinal);
    private readonly ILogger _log = loggers.CreateLogger<SubscriptionManager>();

    public int Order => 20;

    public string Name => "pub/sub subscriptions";

    public async Task OnAppReadyAsync(CancellationToken cancellationToken)
    {
        if (!channel.HasApp)
        {
            return;
        }

        var all = new List<SubscriptionSpec>(await LoadProgrammaticAsync(cancellationToken));
        foreach (var d in registry.Resources.Subscriptions)
        {
            if (all.Any(s => s.PubsubName == d.PubsubName && s.Topic == d.Topic))
            {
                PubSubLog.SubscriptionSkipped(_log, d.PubsubName, d.Topic, d.Source, "the app already subscribes to this topic programmatically");
                continue;
            }

            all.Add(d);
        }

        // Compile everything first so an unsupported rule fails start-up before any consumer runs.
        var compiled = all.Select(CompiledSubscription.Compile).ToList();

        // Dead letters stay until an operator replays them: their streams are never trimmed, even when subscribed.
        foreach (var s in all)
        {
            if (s.DeadLetterTopic is { Length: > 0 } dlt && registry.PubSubs.TryGetValue(s.PubsubName, out var p) && p is IStreamTrimming t)
            {
                t.KeepWhole(dlt);
            }
        }

        var deliveryLog = loggers.CreateLogger<SubscriptionDelivery>();
        foreach (var sub in compiled)
        {
            var s = sub.Spec;
            if (string.IsNullOrEmpty(s.PubsubName) || string.IsNullOrEmpty(s.Topic))
            {
                PubSubLog.SubscriptionSkipped(_log, s.PubsubName, s.Topic, s.Source, "pubsubname and topic are required");
                continue;
            }

            if (!registry.PubSubs.TryGetValue(s.PubsubName, out var pubsub))
            {
                PubSubLog.SubscriptionSkipped(_log, s.PubsubName, s.Topic, s.Source, $"pubsub {s.PubsubName} is not loaded");
                continue;
            }

            if (sub.Rules.Count == 0)
            {
                PubSubLog.SubscriptionSkipped(_log, s.PubsubName, s.Topic, s.Source, "it has no route");
                continue;
            }

            if (!PubSubScopes.IsAllowed(pubsub.Spec, options.AppId, s.Topic, "subscriptionScopes"))
            {
                PubSubLog.SubscriptionSkipped(_log, s.PubsubName, s.Topic, s.Source, $"topic {s.Topic} is not allowed for app id {options.AppId}");
                continue;
            }

            var policy = policies.ForComponent(s.PubsubName, "pubsub", ComponentDirection.Inbound);
            if (!policy.Retries && s.DeadLetterTopic is null)
            {
                PubSubLog.NoRetryNoDeadLetter(_log, s.PubsubName, s.Topic);
            }

            metadata.AddSubscription(s);
            var consumerId = ConsumerId(pubsub.Spec);
            if (sub.Bulk && pubsub is IBatchSubscriber batches)
            {
                var bulk = s.BulkSubscribe!;
                var delivery = new SubscriptionDelivery(sub, pubsub, channel, policy, time, deliveryLog, lifetime.ApplicationStopping, brokerBatches: true);
                await batches.SubscribeBatchesAsync(
                    s.Topic,
                    consumerId,
                    bulk.MaxMessagesCount,
                    TimeSpan.FromMilliseconds(bulk.MaxAwaitDurationMs),
                    SubscriptionDelivery.MaxBatchesInFlight,
                    delivery.HandleBatchAsync,
                    lifetime.ApplicationStopping);
            }
            else
            {
                var delivery = new SubscriptionDelivery(sub, pubsub, channel, policy, time, deliveryLog, lifetime.ApplicationStopping);
                await pubsub.SubscribeAsync(s.Topic, consumerId, s.Metadata, delivery.HandleAsync, lifetime.ApplicationStopping);
            }

            var rules = string.Join("; ", s.Rules.Select(r => r.Match.Length == 0 ? r.Path : $"{r.Match} -> {r.Path}"));
            PubSubLog.Subscribed(
                _log,
                s.PubsubName,
                s.Topic,
                consumerId,
                s.Source,
                rules,
                sub.Bulk,
                s.DeadLetterTopic ?? "none");
        }
    }

    /// <summary>consumerID metadata (default: the app id) with {appID}, {uuid}, {podName}, {namespace} expanded once per component.</summary>
    public string ConsumerId(ComponentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return _consumerIds.GetOrAdd(spec.Name, _ => ExpandConsumerId(spec.GetOr("consumerID", options.AppId), options.AppId));
    }

    public static string ExpandConsumerId(string template, string appId)
    {
        ArgumentNullException.ThrowIfNull(template);
        return template
            .Replace("{appID}", appId, StringComparison.Ordinal)
            .Replace("{uuid}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
            .Replace("{podName}", Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.MachineName, StringComparison.Ordinal)
            .Replace("{namespace}", Environment.GetEnvironmentVariable("NAMESPACE") ?? "default", StringComparison.Ordinal);
    }

    private async Task<IReadOnlyList<SubscriptionSpec>> LoadProgrammaticAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/dapr/subscribe");
                request.Headers.TryAddWithoutValidation("dapr-app-id", options.AppId);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                using var response = await channel.SendAsync(request, timeout.Token);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return [];
                }

                if (!response.IsSuccessStatusCode)
                {
                    PubSubLog.SubscribeEndpointFailed(_log, (int)response.StatusCode);
                    return [];
                }

                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                return body.Length == 0 ? [] : SubscriptionParser.ParseProgrammatic(body);
            }
            catch (Exception e) when (attempt < SubscribeBackoff.Length && !cancellationToken.IsCancellationRequested &&
                                      e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException or FormatException)
            {
                PubSubLog.SubscribeEndpointRetry(_log, e, attempt + 1);
                await Task.Delay(SubscribeBackoff[attempt], cancellationToken);
            }
        }
    }
}
