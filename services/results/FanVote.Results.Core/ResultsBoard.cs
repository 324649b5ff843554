namespace FanVote.Results.Core;

/// <summary>What the results API and page show for one window.</summary>
public sealed record ResultView(
    string WindowId,
    string? Title,
    IReadOnlyList<string> Candidates,
    long Seq,
    long Total,
    IReadOnlyDictionary<string, long> Counts,
    DateTimeOffset? UpdatedAt);

/// <summary>
/// The latest known results per window: the schedule (title, candidates) from window events and the newest
/// tally snapshot. A snapshot replaces the current one only when its seq is higher, so redelivered or
/// reordered snapshots never move the numbers backwards.
/// </summary>
public sealed class ResultsBoard
{
    private readonly Dictionary<string, Entry> _windows = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public void Schedule(string windowId, string title, IReadOnlyList<string> candidates, DateTimeOffset scheduledAt)
    {
        lock (_gate)
        {
            var e = _windows.TryGetValue(windowId, out var existing) ? existing : new Entry();
            _windows[windowId] = e with { Title = title, Candidates = candidates, KnownSince = e.KnownSince ?? scheduledAt };
        }
    }

    /// <summary>True when the snapshot is newer than what the board had (then it should be fanned out).</summary>
    public bool Apply(string windowId, long seq, long total, IReadOnlyDictionary<string, long> counts, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(counts);
        lock (_gate)
        {
            var e = _windows.TryGetValue(windowId, out var existing) ? existing : new Entry { KnownSince = at };
            if (e.Snapshot is { } s && seq <= s.Seq)
            {
                return false;
            }

            _windows[windowId] = e with { Snapshot = new Snapshot(seq, total, counts, at) };
            return true;
        }
    }

    public ResultView? Get(string windowId)
    {
        lock (_gate)
        {
            return _windows.TryGetValue(windowId, out var e) ? View(windowId, e) : null;
        }
    }

    /// <summary>Known windows, most recently scheduled or updated first.</summary>
    public IReadOnlyList<ResultView> All()
    {
        lock (_gate)
        {
            return [.. _windows.Select(kv => (View: View(kv.Key, kv.Value), Order: kv.Value.Snapshot?.At ?? kv.Value.KnownSince ?? DateTimeOffset.MinValue))
                .OrderByDescending(x => x.Order).Select(x => x.View)];
        }
    }

    private static ResultView View(string id, Entry e)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var candidates = new List<string>(e.Candidates ?? []);
        foreach (var c in candidates)
        {
            counts[c] = 0;
        }

        foreach (var (c, n) in e.Snapshot?.Counts ?? new Dictionary<string, long>())
        {
            counts[c] = n;
            if (!candidates.Contains(c))
            {
                candidates.Add(c);
            }
        }

        return new ResultView(id, e.Title, candidates, e.Snapshot?.Seq ?? 0, e.Snapshot?.Total ?? 0, counts, e.Snapshot?.At);
    }

    private sealed record Snapshot(long Seq, long Total, IReadOnlyDictionary<string, long> Counts, DateTimeOffset At);

    private sealed record Entry
    {
        public string? Title { get; init; }

        public IReadOnlyList<string>? Candidates { get; init; }

        public Snapshot? Snapshot { get; init; }

        public DateTimeOffset? KnownSince { get; init; }
    }
}
