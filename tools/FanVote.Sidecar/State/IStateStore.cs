using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.State;

/// <summary>
/// One state component. Keys arrive already prefixed (`appid||key`); etag and first-write semantics are
/// each store's own, exactly as the Dapr component of the same type has them (dapr-subset.md §6.4–6.7).
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
}
