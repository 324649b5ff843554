namespace FanVote.Sidecar.Workflows;

/// <summary>A durable timer of one execution (TimerId -1: a start scheduled for later).</summary>
public sealed record WorkflowTimer(string InstanceId, string ExecutionId, int TimerId, DateTimeOffset FireAt);

/// <summary>
/// In-memory schedule of the durable timers. Nothing here is persisted: timers are derived from history
/// (a `timerCreated` without `timerFired`) when an instance is loaded, so after a restart overdue ones fire at once.
/// </summary>
public sealed class WorkflowTimers(TimeProvider time) : IDisposable
{
    private readonly PriorityQueue<WorkflowTimer, DateTimeOffset> _queue = new();
    private readonly HashSet<WorkflowTimer> _armed = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);

    public void Dispose() => _wake.Dispose();

    public void Arm(WorkflowTimer timer)
    {
        lock (_gate)
        {
            if (!_armed.Add(timer))
            {
                return;
            }

            _queue.Enqueue(timer, timer.FireAt);
        }

        _wake.Release();
    }

    /// <summary>Fires due timers through <paramref name="fire"/> until <paramref name="stop"/>.</summary>
    public async Task RunAsync(Func<WorkflowTimer, Task> fire, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var due = new List<WorkflowTimer>();
            TimeSpan wait;
            lock (_gate)
            {
                var now = time.GetUtcNow();
                while (_queue.TryPeek(out var t, out var at) && at <= now)
                {
                    _queue.Dequeue();
                    _armed.Remove(t);
                    due.Add(t);
                }

                wait = _queue.TryPeek(out _, out var next) ? next - now : TimeSpan.FromMinutes(1);
            }

            foreach (var t in due)
            {
                await fire(t);
            }

            if (due.Count == 0)
            {
                var capped = wait > TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
                try
                {
                    await _wake.WaitAsync(capped, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
