using System.Threading.Channels;

namespace FanVote.Ingress.Core;

/// <summary>
/// Natural group commit: callers queue items; up to <c>workers</c> loops each take everything queued (at most
/// <c>maxBatch</c>) and process it as one batch. With little load a batch is one item and adds no latency; under
/// load batches grow by themselves while the workers are busy, so one round trip serves many requests. There is
/// no timer and no spinning: an idle queue costs nothing.
/// </summary>
public sealed class GroupCommit<T>
{
    private readonly Channel<T> _queue;
    private readonly Func<List<T>, CancellationToken, Task> _process;
    private readonly int _maxBatch;

    /// <param name="process">Handles one batch; it must settle every item itself (it is not told of exceptions twice).</param>
    public GroupCommit(int capacity, int maxBatch, Func<List<T>, CancellationToken, Task> process)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _queue = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait });
        _process = process;
        _maxBatch = maxBatch;
    }

    /// <summary>Items waiting for a worker.</summary>
    public int Count => _queue.Reader.Count;

    /// <summary>Queues <paramref name="item"/>; false when the queue is full (shed load now rather than time out later).</summary>
    public bool TryEnqueue(T item) => _queue.Writer.TryWrite(item);

    /// <summary>Runs <paramref name="workers"/> batch loops until <paramref name="stop"/>.</summary>
    public Task RunAsync(int workers, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, workers)).Select(_ => Task.Run(() => WorkerAsync(stop), CancellationToken.None)));

    private async Task WorkerAsync(CancellationToken stop)
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stop))
            {
                var batch = new List<T>(Math.Min(_maxBatch, Math.Max(1, reader.Count)));
                while (batch.Count < _maxBatch && reader.TryRead(out var item))
                {
                    batch.Add(item);
                }

                if (batch.Count > 0)
                {
                    await _process(batch, stop);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
