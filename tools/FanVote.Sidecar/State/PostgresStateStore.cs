using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.State;

// STUB: replaced by the state implementation.
public sealed class PostgresStateStore(ComponentSpec spec, ILogger<PostgresStateStore> log) : IStateStore
{
    public ComponentSpec Spec => spec;

    public Task InitAsync(CancellationToken cancellationToken) { _ = log; return Task.CompletedTask; }

    public Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task SetAsync(StateWrite write, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task DeleteAsync(StateDelete request, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
