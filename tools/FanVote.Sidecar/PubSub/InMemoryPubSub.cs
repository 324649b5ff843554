using System.Collections.Concurrent;
using System.Threading.Channels;
using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.PubSub;

/// <summary>
/// <c>pubsub.in-memory</c> (docs/dapr-subset.md §6.3): a bus inside this sidecar process only. Each subscription
/// gets every message published to its topic, delivered asynchronously and one at a time; a failed or
/// cancelled handler is only logged — there is no redelivery.
/// </summary>
public sealed class InMemoryPubSub(ComponentSpec spec, ILogger<InMemoryPubSub> log) : IPubSub
{
    private readonly ConcurrentDictionary<string, ImmutableSubscribers> _topics = new(StringComparer.Ordinal);
    private readonly List<Task> _loops = [];

    public ComponentSpec Spec => spec;

    public Task InitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task PublishAsync(string topic, ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var message = new BrokerMessage(topic, data.ToArray(), new Dictionary<string, string>(metadata, StringComparer.Ordinal));
        if (_topics.TryGetValue(topic, out var subscribers))
        {
            foreach (var s in subscribers.Channels)
            {
                s.Writer.TryWrite(message);
            }
        }

        return Task.CompletedTask;
    }

    public Task SubscribeAsync(
        string topic,
        string consumerId,
        IReadOnlyDictionary<string, string> subscriptionMetadata,
        Func<BrokerMessage, CancellationToken, Task> handler,
        CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var channel = Channel.CreateUnbounded<BrokerMessage>(new UnboundedChannelOptions { SingleReader = true });
        _topics.AddOrUpdate(topic, _ => new ImmutableSubscribers([channel]), (_, old) => new ImmutableSubscribers([.. old.Channels, channel]));
        var loop = Task.Run(
            async () =>
            {
                try
                {
                    await foreach (var m in channel.Reader.ReadAllAsync(stopping))
                    {
                        try
                        {
                            await handler(m, stopping);
                        }
                        catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
                        {
                            PubSubLog.HandlerFailed(log, e, topic, "(in-memory)");
                        }
                    }
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                }
            },
            CancellationToken.None);
        lock (_loops)
        {
            _loops.Add(loop);
        }

        return Task.CompletedTask;
    }

    public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _topics.Values.SelectMany(t => t.Channels))
        {
            s.Writer.TryComplete();
        }

        Task[] loops;
        lock (_loops)
        {
            loops = [.. _loops];
        }

        try
        {
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }
    }

    private sealed record ImmutableSubscribers(IReadOnlyList<Channel<BrokerMessage>> Channels);
}
