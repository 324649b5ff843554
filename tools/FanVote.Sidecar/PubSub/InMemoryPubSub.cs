using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.PubSub;

// STUB: replaced by the pub/sub implementation.
public sealed class InMemoryPubSub(ComponentSpec spec, ILogger<InMemoryPubSub> log) : IPubSub
{
    public ComponentSpec Spec => spec;

    public Task InitAsync(CancellationToken cancellationToken) { _ = log; return Task.CompletedTask; }

    public Task PublishAsync(string topic, ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task SubscribeAsync(string topic, string consumerId, IReadOnlyDictionary<string, string> subscriptionMetadata, Func<BrokerMessage, CancellationToken, Task> handler, CancellationToken stopping) => throw new NotSupportedException();

    public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
