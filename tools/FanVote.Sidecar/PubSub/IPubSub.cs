using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.PubSub;

/// <summary>A message as it comes off the broker: the stored bytes (usually a CloudEvent) plus metadata.</summary>
public sealed record BrokerMessage(string Topic, ReadOnlyMemory<byte> Data, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// One pub/sub component. The handler's outcome decides acknowledgement the way the Dapr component does:
/// returning (success or a failure result) acks; an exception caused by cancellation leaves the message
/// pending for redelivery (dapr-subset.md §6.1).
/// </summary>
public interface IPubSub : IAsyncDisposable
{
    ComponentSpec Spec { get; }

    Task InitAsync(CancellationToken cancellationToken);

    Task PublishAsync(string topic, ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);

    /// <summary>Starts consuming <paramref name="topic"/> as <paramref name="consumerId"/> until <paramref name="stopping"/>.</summary>
    Task SubscribeAsync(
        string topic,
        string consumerId,
        IReadOnlyDictionary<string, string> subscriptionMetadata,
        Func<BrokerMessage, CancellationToken, Task> handler,
        CancellationToken stopping);

    Task<bool> PingAsync(CancellationToken cancellationToken);
}
