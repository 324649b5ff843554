using System.Threading.Channels;
using Dapr.DurableTask.Protobuf;

namespace FanVote.Sidecar.Workflows;

/// <summary>
/// One open `GetWorkItems` stream: a queue drained by a single writer (gRPC stream writers are not thread-safe) and
/// the keys of the work items handed to it, so everything still open on it is handed out again when it ends.
/// </summary>
public sealed class WorkerConnection(long id, bool healthPings)
{
    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _assigned = new(StringComparer.Ordinal);
    private bool _closed;

    public long Id { get; } = id;

    public bool HealthPings { get; } = healthPings;

    public ChannelReader<WorkItem> Reader => _queue.Reader;

    /// <summary>Queues <paramref name="item"/> under <paramref name="key"/>; false once the stream has ended.</summary>
    public bool TrySend(string key, WorkItem item)
    {
        lock (_assigned)
        {
            if (_closed || !_queue.Writer.TryWrite(item))
            {
                return false;
            }

            _assigned.Add(key);
            return true;
        }
    }

    public bool TryPing() => _queue.Writer.TryWrite(new WorkItem { HealthPing = new HealthPing() });

    public void Done(string key)
    {
        lock (_assigned)
        {
            _assigned.Remove(key);
        }
    }

    /// <summary>Ends the stream; returns the keys of the work items it was given and that are not done.</summary>
    public IReadOnlyList<string> Close()
    {
        lock (_assigned)
        {
            _closed = true;
            _queue.Writer.TryComplete();
            return [.. _assigned];
        }
    }
}

/// <summary>The connected workers: round-robin over the open streams.</summary>
public sealed class WorkItemStreams
{
    private readonly Lock _gate = new();
    private readonly List<WorkerConnection> _streams = [];
    private long _nextId;
    private int _next;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _streams.Count;
            }
        }
    }

    public WorkerConnection Open(bool healthPings)
    {
        lock (_gate)
        {
            var s = new WorkerConnection(++_nextId, healthPings);
            _streams.Add(s);
            return s;
        }
    }

    public IReadOnlyList<string> Close(WorkerConnection stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        lock (_gate)
        {
            _streams.Remove(stream);
        }

        return stream.Close();
    }

    public WorkerConnection? Find(long id)
    {
        lock (_gate)
        {
            return _streams.FirstOrDefault(s => s.Id == id);
        }
    }

    /// <summary>Hands <paramref name="item"/> to the next open stream; null when no worker is connected.</summary>
    public WorkerConnection? Send(string key, WorkItem item)
    {
        while (true)
        {
            WorkerConnection s;
            lock (_gate)
            {
                if (_streams.Count == 0)
                {
                    return null;
                }

                s = _streams[_next++ % _streams.Count];
            }

            if (s.TrySend(key, item))
            {
                return s;
            }

            lock (_gate)
            {
                _streams.Remove(s); // ended between the pick and the send
            }
        }
    }

    public IReadOnlyList<WorkerConnection> Snapshot()
    {
        lock (_gate)
        {
            return [.. _streams];
        }
    }
}
