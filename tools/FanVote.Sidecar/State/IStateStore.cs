using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.State;

/// <summary>
/// One state component. Keys arrive already prefixed (`appid||key`); etag and first-write semantics are
/// each store's own, exactly as the Dapr component of the same type has them (docs/dapr-subset.md §6.4–6.7).
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    ComponentSpec Spec { get; }

    /// <summary>Connects and creates tables; throws with a message naming the component when it cannot.</summary>
    Task InitAsync(CancellationToken cancellationToken);

    /// <summary>Null when the key is missing or expired.</summary>
    Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken);

    Task SetAsync(StateWrite write, CancellationToken cancellationToken);

    Task DeleteAsync(StateDelete request, CancellationToken cancellationToken);

    /// <summary>All or nothing; any failure (etag included) surfaces as an exception.</summary>
    Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken);

    /// <summary>True when the backing store answers (used by /v1.0/healthz/outbound).</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Several keys at once, in the order asked (null for a missing key). Stores override it with one round trip;
    /// the default issues the reads concurrently.
    /// </summary>
    async Task<IReadOnlyList<StateEntry?>> GetManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return await Task.WhenAll(keys.Select(k => GetAsync(k, cancellationToken)));
    }

    /// <summary>
    /// Stored keys that start with <paramref name="prefix"/> and end with <paramref name="suffix"/>, in ordinal order,
    /// after <paramref name="after"/> (exclusive; null = from the start), at most <paramref name="limit"/> of them.
    /// daprd's `KeysLike` (what its workflow ListInstanceIDs pages over); not part of the state API.
    /// </summary>
    Task<IReadOnlyList<string>> ListKeysAsync(string prefix, string suffix, string? after, int limit, CancellationToken cancellationToken);
}
