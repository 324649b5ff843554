using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.PubSub;

/// <summary>A message as it comes off the broker: the stored bytes (usually a CloudEvent) plus metadata.</summary>
public sealed record BrokerMessage(string Topic, ReadOnlyMemory<byte> Data, IReadOnlyDictionary<string, string> Metadata);

/// <summary>A message to publish: the bytes to store and the metadata to store beside them.</summary>
public readonly record struct OutgoingMessage(ReadOnlyMemory<byte> Data, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// One pub/sub component. The handler's outcome decides acknowledgement the way the Dapr component does:
/// returning (success or a failure result) acks; an exception caused by cancellation leaves the message
/// pending for redelivery (docs/dapr-subset.md §6.1).
/// </summary>
public interface IPubSub : IAsyncDisposable
{
    ComponentSpec Spec { get; }

    Task InitAsync(CancellationToken cancellationToken);

    Task PublishAsync(string topic, ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);

    /// <summary>
    /// Publishes <paramref name="messages"/> to one topic; the result holds, in order, null for each message the
    /// broker stored and the error for each it did not. Brokers that can pipeline override this.
    /// </summary>
    async Task<Exception?[]> PublishManyAsync(string topic, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var errors = new Exception?[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            try
            {
                await PublishAsync(topic, messages[i].Data, messages[i].Metadata, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                errors[i] = e;
            }
        }

        return errors;
    }

    /// <summary>Starts consuming <paramref name="topic"/> as <paramref name="consumerId"/> until <paramref name="stopping"/>.</summary>
    Task SubscribeAsync(
        string topic,
        string consumerId,
        IReadOnlyDictionary<string, string> subscriptionMetadata,
        Func<BrokerMessage, CancellationToken, Task> handler,
        CancellationToken stopping);

    Task<bool> PingAsync(CancellationToken cancellationToken);
}

/// <summary>
/// A component that can hand a bulk subscription whole batches straight off the broker (one read, one ack
/// command per batch) instead of one handler call per message.
/// </summary>
public interface IBatchSubscriber
{
    /// <summary>
    /// Consumes <paramref name="topic"/> in batches of up to <paramref name="maxMessages"/>, waiting at most
    /// <paramref name="maxAwait"/> for a batch to fill, with up to <paramref name="batchesInFlight"/> handler calls
    /// at once. The handler reports each message it settled (by index); settled messages are acked, the rest stay
    /// pending for redelivery. A handler that fails outright (not by cancellation) settles the whole batch, as a
    /// failed per-message handler would.
    /// </summary>
    Task SubscribeBatchesAsync(
        string topic,
        string consumerId,
        int maxMessages,
        TimeSpan maxAwait,
        int batchesInFlight,
        Func<IReadOnlyList<BrokerMessage>, Action<int>, CancellationToken, Task> handler,
        CancellationToken stopping);
}
