using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.Resiliency;

namespace FanVote.Sidecar.PubSub;

public enum PublishError
{
    PubsubEmpty,
    PubsubNotFound,
    TopicEmpty,
    Forbidden,
    BadRequest,
    Failed,
}

/// <summary>A publish that failed; <see cref="Error"/> decides the gRPC/HTTP status (docs/dapr-subset.md §2.3, §12).</summary>
public sealed class PublishException(PublishError error, string errorCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public PublishError Error { get; } = error;

    public string ErrorCode { get; } = errorCode;
}

public sealed record PublishRequest(
    string PubsubName,
    string Topic,
    ReadOnlyMemory<byte> Data,
    string? ContentType,
    IReadOnlyDictionary<string, string> Metadata,
    string? TraceParent = null,
    string? TraceState = null);

public sealed record BulkPublishEntry(string EntryId, ReadOnlyMemory<byte> Event, string? ContentType, IReadOnlyDictionary<string, string> Metadata);

public sealed record BulkPublishFailure(string EntryId, string Error);

/// <summary>The publish path shared by gRPC and HTTP: validation, scopes, envelope, outbound resiliency, broker.</summary>
public sealed class PubSubPublisher(ComponentRegistry registry, SidecarOptions options, ResiliencyPolicies policies, TimeProvider time)
{
    public async Task PublishAsync(PublishRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pubsub = ResolveForPublish(request.PubsubName, request.Topic);
        await PublishToAsync(pubsub, request, cancellationToken);
    }

    /// <summary>
    /// Builds every entry's envelope, then hands the whole batch to the broker in one pipelined write under one
    /// outbound policy execution; a retry resends only the entries that failed. Failures are per entry.
    /// </summary>
    public async Task<IReadOnlyList<BulkPublishFailure>> BulkPublishAsync(
        string pubsubName,
        string topic,
        IReadOnlyList<BulkPublishEntry> entries,
        IReadOnlyDictionary<string, string> requestMetadata,
        string? traceParent,
        string? traceState,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(requestMetadata);
        var pubsub = ResolveForPublish(pubsubName, topic);
        var seen = new HashSet<string>(entries.Count, StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (string.IsNullOrEmpty(e.EntryId))
            {
                throw new PublishException(PublishError.BadRequest, "ERR_PUBSUB_EVENTS_SER", $"bulk publish to {pubsubName}/{topic}: an entry has an empty entryId");
            }

            if (!seen.Add(e.EntryId))
            {
                throw new PublishException(PublishError.BadRequest, "ERR_PUBSUB_EVENTS_SER", $"bulk publish to {pubsubName}/{topic}: entryId '{e.EntryId}' is used twice");
            }
        }

        var failures = new BulkPublishFailure?[entries.Count];
        var pending = new List<(int Index, OutgoingMessage Message)>(entries.Count);
        var ctx = new PublishContext(options.AppId, pubsubName, topic, traceParent, traceState, time.GetUtcNow());
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            try
            {
                var (data, metadata) = CloudEvents.Build(e.Event.Span, e.ContentType, Merge(requestMetadata, e.Metadata), ctx);
                pending.Add((i, new OutgoingMessage(data, metadata)));
            }
            catch (CloudEventException x)
            {
                failures[i] = new BulkPublishFailure(e.EntryId, x.Message);
            }
        }

        try
        {
            var policy = policies.ForComponent(pubsubName, "pubsub", ComponentDirection.Outbound);
            await policy.ExecuteAsync(
                async ct =>
                {
                    var errors = await pubsub.PublishManyAsync(topic, [.. pending.Select(p => p.Message)], ct);
                    var failed = pending.Where((_, i) => errors[i] is not null).ToList();
                    if (failed.Count > 0)
                    {
                        var first = errors.First(x => x is not null)!;
                        pending = failed;
                        throw new IOException($"{failed.Count} of the entries were not stored: {first.Message}", first);
                    }

                    pending = [];
                },
                cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = e is IOException { InnerException: { } inner } ? inner.Message : e.Message;
            foreach (var (index, _) in pending)
            {
                failures[index] = new BulkPublishFailure(entries[index].EntryId, $"error when publish to topic {topic} in pubsub {pubsubName}: {reason}");
            }
        }

        return [.. failures.OfType<BulkPublishFailure>()];
    }

    private static IReadOnlyDictionary<string, string> Merge(IReadOnlyDictionary<string, string> request, IReadOnlyDictionary<string, string> entry)
    {
        if (entry.Count == 0)
        {
            return request;
        }

        if (request.Count == 0)
        {
            return entry;
        }

        var merged = new Dictionary<string, string>(request, StringComparer.Ordinal);
        foreach (var (k, v) in entry)
        {
            merged[k] = v;
        }

        return merged;
    }

    /// <summary>Finds the component and checks the topic against allowedTopics/publishingScopes/protectedTopics.</summary>
    public IPubSub ResolveForPublish(string pubsubName, string topic)
    {
        if (string.IsNullOrEmpty(pubsubName))
        {
            throw new PublishException(PublishError.PubsubEmpty, "ERR_PUBSUB_EMPTY", "pubsub name is empty");
        }

        if (!registry.PubSubs.TryGetValue(pubsubName, out var pubsub))
        {
            throw new PublishException(PublishError.PubsubNotFound, "ERR_PUBSUB_NOT_FOUND", $"pubsub {pubsubName} is not found");
        }

        if (string.IsNullOrEmpty(topic))
        {
            throw new PublishException(PublishError.TopicEmpty, "ERR_PUBSUB_TOPIC_NAME_EMPTY", $"topic is empty in pubsub {pubsubName}");
        }

        if (!PubSubScopes.IsAllowed(pubsub.Spec, options.AppId, topic, "publishingScopes"))
        {
            throw new PublishException(PublishError.Forbidden, "ERR_PUBSUB_FORBIDDEN", $"topic {topic} is not allowed for app id {options.AppId}");
        }

        return pubsub;
    }

    private async Task PublishToAsync(IPubSub pubsub, PublishRequest request, CancellationToken cancellationToken)
    {
        byte[] data;
        IReadOnlyDictionary<string, string> metadata;
        try
        {
            (data, metadata) = CloudEvents.Build(
                request.Data.Span,
                request.ContentType,
                request.Metadata,
                new PublishContext(options.AppId, request.PubsubName, request.Topic, request.TraceParent, request.TraceState, time.GetUtcNow()));
        }
        catch (CloudEventException e)
        {
            throw new PublishException(PublishError.BadRequest, "ERR_PUBSUB_CLOUD_EVENTS_SER", e.Message, e);
        }

        try
        {
            var policy = policies.ForComponent(request.PubsubName, "pubsub", ComponentDirection.Outbound);
            await policy.ExecuteAsync(ct => pubsub.PublishAsync(request.Topic, data, metadata, ct), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new PublishException(
                PublishError.Failed,
                "ERR_PUBSUB_PUBLISH_MESSAGE",
                $"error when publish to topic {request.Topic} in pubsub {request.PubsubName}: {e.Message}",
                e);
        }
    }
}

/// <summary>daprd's topic scoping for pub/sub components (allowedTopics, protectedTopics, publishing/subscriptionScopes).</summary>
public static class PubSubScopes
{
    /// <param name="scopesKey">"publishingScopes" or "subscriptionScopes".</param>
    public static bool IsAllowed(ComponentSpec spec, string appId, string topic, string scopesKey)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var allowed = List(spec.Get("allowedTopics"));
        if (allowed.Count > 0 && !allowed.Contains(topic))
        {
            return false;
        }

        var protectedTopics = List(spec.Get("protectedTopics"));
        var scoped = AppTopics(spec.Get(scopesKey), appId);
        if (!protectedTopics.Contains(topic) && (scoped is null || scoped.Count == 0))
        {
            return true;
        }

        return scoped is not null && scoped.Contains(topic);
    }

    /// <summary>"app1=t1,t2;app2=t3" → the topics listed for <paramref name="appId"/>, or null when the app is not listed.</summary>
    private static HashSet<string>? AppTopics(string? scopes, string appId)
    {
        if (string.IsNullOrWhiteSpace(scopes))
        {
            return null;
        }

        foreach (var part in scopes.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq].Trim() == appId)
            {
                return List(part[(eq + 1)..]);
            }
        }

        return null;
    }

    private static HashSet<string> List(string? csv) =>
        new((csv ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
}
