using Dapr.Client;
using FanVote.Contracts;

namespace FanVote.ServiceDefaults;

/// <summary>Publishing on the topics that carry several event types: the CloudEvent type is what subscribers route on.</summary>
public static class TypedEvents
{
    /// <summary>Publishes <paramref name="data"/> on <paramref name="topic"/> of `vote-bus` with CloudEvent type <paramref name="type"/>.</summary>
    public static Task PublishTypedAsync<T>(this DaprClient dapr, string topic, string type, T data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dapr);
        return dapr.PublishEventAsync(ComponentNames.VoteBus, topic, data, new Dictionary<string, string> { [EventTypes.MetadataKey] = type }, cancellationToken);
    }
}
