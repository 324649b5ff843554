namespace FanVote.Ingress.Core;

/// <summary>Where a window is, seen from ingress's clock.</summary>
public enum WindowStatus
{
    NotYetOpen,
    Open,
    Closed,
}

/// <summary>A window's schedule as ingress enforces it (from WindowScheduled): no call per vote.</summary>
public sealed record WindowSchedule(string WindowId, IReadOnlyList<string> Candidates, DateTimeOffset OpensAt, DateTimeOffset ClosesAt, int VotesPerAccount)
{
    private readonly HashSet<string> _candidates = new(Candidates, StringComparer.Ordinal);

    public WindowStatus StatusAt(DateTimeOffset now) =>
        now < OpensAt ? WindowStatus.NotYetOpen : now < ClosesAt ? WindowStatus.Open : WindowStatus.Closed;

    public bool HasCandidate(string candidateId) => _candidates.Contains(candidateId);
}

/// <summary>The schedules ingress knows, by window id.</summary>
public sealed class WindowBook
{
    private readonly Dictionary<string, WindowSchedule> _windows = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public void Upsert(WindowSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        lock (_gate)
        {
            _windows[schedule.WindowId] = schedule;
        }
    }

    public WindowSchedule? Find(string windowId)
    {
        lock (_gate)
        {
            return _windows.TryGetValue(windowId, out var w) ? w : null;
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _windows.Count;
            }
        }
    }
}
