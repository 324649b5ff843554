using System.Collections.Concurrent;

namespace FanVote.Orchestrator.Lifecycle;

/// <summary>
/// Serialises the operator API's create and continue per window within this process: a create reads the instance
/// before scheduling it (an instance id must never be scheduled over an existing window), and a continue waits for its
/// go to be taken before the next one is judged. Several orchestrator replicas would need a distributed lock here.
/// </summary>
public sealed class WindowLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public async Task<IDisposable> AcquireAsync(string windowId, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(windowId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Release(gate);
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
