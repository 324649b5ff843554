using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.State;

/// <summary>
/// `state.in-memory` (docs/dapr-subset.md §6.7): per process; etag = random UUID per write; an etag on a missing key
/// and FIRST_WRITE without etag on an existing key are mismatches; transactions check every etag, then apply.
/// </summary>
public sealed class InMemoryStateStore(ComponentSpec spec, TimeProvider? time = null) : IStateStore
{
    private readonly Dictionary<string, Item> _items = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public ComponentSpec Spec => spec;

    public Task InitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(Live(key) is { } i ? new StateEntry(i.Value, i.ETag, StateTtl.ExpiryMetadata(i.ExpiresAt)) : null);
        }
    }

    public Task SetAsync(StateWrite write, CancellationToken cancellationToken) =>
        ExecuteTransactionAsync([new UpsertOperation(write)], cancellationToken);

    public Task DeleteAsync(StateDelete request, CancellationToken cancellationToken) =>
        ExecuteTransactionAsync([new DeleteOperation(request)], cancellationToken);

    public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        lock (_gate)
        {
            foreach (var op in operations)
            {
                Check(op);
            }

            foreach (var op in operations)
            {
                switch (op)
                {
                    case UpsertOperation { Write: var w }:
                        var ttl = StateTtl.Resolve(w.Metadata, spec);
                        DateTimeOffset? expires = ttl is > 0 ? _time.GetUtcNow().AddSeconds(ttl.Value) : null;
                        _items[w.Key] = new Item(w.Value.ToArray(), Guid.NewGuid().ToString(), expires);
                        break;
                    case DeleteOperation { Delete: var d }:
                        _items.Remove(d.Key);
                        break;
                    default:
                        throw new StateStoreException($"unknown operation {op.GetType().Name}");
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    public Task<IReadOnlyList<string>> ListKeysAsync(string prefix, string suffix, string? after, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<string> keys = [.. _items.Keys.ToList()
                .Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k.EndsWith(suffix, StringComparison.Ordinal)
                    && k.Length >= prefix.Length + suffix.Length && (after is null || string.CompareOrdinal(k, after) > 0) && Live(k) is not null)
                .Order(StringComparer.Ordinal)
                .Take(limit)];
            return Task.FromResult(keys);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void Check(StateOperation op)
    {
        var (key, etag, concurrency) = op switch
        {
            UpsertOperation { Write: var w } => (w.Key, w.ETag, w.Concurrency),
            DeleteOperation { Delete: var d } => (d.Key, d.ETag, d.Concurrency),
            _ => throw new StateStoreException($"unknown operation {op.GetType().Name}"),
        };
        var current = Live(key);
        if (!string.IsNullOrEmpty(etag) && concurrency != StateConcurrency.LastWrite)
        {
            if (current is null || current.ETag != etag)
            {
                throw new StateETagMismatchException($"possible etag mismatch for key {key}");
            }
        }
        else if (op is UpsertOperation && concurrency == StateConcurrency.FirstWrite && current is not null)
        {
            throw new StateETagMismatchException($"key {key} already exists (first-write)");
        }
    }

    private Item? Live(string key)
    {
        if (!_items.TryGetValue(key, out var i))
        {
            return null;
        }

        if (i.ExpiresAt is { } at && at <= _time.GetUtcNow())
        {
            _items.Remove(key);
            return null;
        }

        return i;
    }

    private sealed record Item(byte[] Value, string ETag, DateTimeOffset? ExpiresAt);
}
