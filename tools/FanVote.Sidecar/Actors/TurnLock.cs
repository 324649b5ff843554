namespace FanVote.Sidecar.Actors;

/// <summary>
/// One actor's turn: a FIFO async lock (method calls, reminder and timer callbacks queue in arrival order).
/// With reentrancy, a call carrying the reentrancy id of the running turn enters without queueing.
/// </summary>
public sealed class TurnLock
{
    private readonly Queue<(TaskCompletionSource Wait, string? ReentrancyId)> _waiters = new();
    private readonly Lock _gate = new();
    private bool _held;

    /// <summary>The reentrancy id of the turn holding the lock, if any.</summary>
    public string? HolderReentrancyId { get; private set; }

    /// <summary>Depth of reentrant calls inside the current turn (1 = the turn itself).</summary>
    public int Depth { get; private set; }

    public bool IsBusy
    {
        get
        {
            lock (_gate)
            {
                return _held || _waiters.Count > 0;
            }
        }
    }

    /// <summary>Enters the turn; returns null when <paramref name="reentrancyId"/> re-enters and the stack is too deep.</summary>
    public async Task<IDisposable?> EnterAsync(string? reentrancyId, int maxDepth, CancellationToken cancellationToken)
    {
        TaskCompletionSource? wait = null;
        lock (_gate)
        {
            if (_held && reentrancyId is not null && reentrancyId == HolderReentrancyId)
            {
                if (Depth >= maxDepth)
                {
                    return null;
                }

                Depth++;
                return new Release(this, reentrant: true);
            }

            if (!_held)
            {
                _held = true;
                HolderReentrancyId = reentrancyId;
                Depth = 1;
                return new Release(this, reentrant: false);
            }

            wait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue((wait, reentrancyId));
        }

        try
        {
            await wait.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                if (!wait.TrySetCanceled(CancellationToken.None))
                {
                    // The lock was handed to us just as we gave up: pass it on.
                    ReleaseTurn();
                }
            }

            throw;
        }

        return new Release(this, reentrant: false);
    }

    private void ReleaseTurn()
    {
        while (_waiters.TryDequeue(out var next))
        {
            HolderReentrancyId = next.ReentrancyId;
            Depth = 1;
            if (next.Wait.TrySetResult())
            {
                return; // ownership passes straight to the next waiter
            }
        }

        _held = false;
        HolderReentrancyId = null;
        Depth = 0;
    }

    private sealed class Release(TurnLock owner, bool reentrant) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 1)
            {
                return;
            }

            lock (owner._gate)
            {
                if (reentrant)
                {
                    owner.Depth--;
                }
                else
                {
                    owner.ReleaseTurn();
                }
            }
        }
    }
}
