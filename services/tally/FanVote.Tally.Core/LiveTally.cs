namespace FanVote.Tally.Core;

/// <summary>
/// The latest persisted counts per window and which of them still need publishing. Snapshots only move
/// forward (a lower seq never replaces a higher one), so racing batches cannot publish counts backwards.
/// </summary>
public sealed class LiveTally(TimeProvider time)
{
    private readonly Dictionary<string, Entry> _windows = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public void Apply(IEnumerable<WindowCounts> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var now = time.GetUtcNow();
        lock (_gate)
        {
            foreach (var c in counts)
            {
                if (!_windows.TryGetValue(c.WindowId, out var e) || c.Seq > e.Counts.Seq)
                {
                    _windows[c.WindowId] = new Entry(c, Dirty: true, ChangedAt: now, PublishedAt: e?.PublishedAt);
                }
            }
        }
    }

    /// <summary>
    /// Snapshots to publish now: every changed window, plus windows changed within <paramref name="activeFor"/>
    /// that were last published more than <paramref name="republishEvery"/> ago (so a restarted reader catches up).
    /// </summary>
    public IReadOnlyList<WindowCounts> TakeDue(TimeSpan republishEvery, TimeSpan activeFor)
    {
        var now = time.GetUtcNow();
        var due = new List<WindowCounts>();
        lock (_gate)
        {
            foreach (var (id, e) in _windows.ToList())
            {
                var stale = now - e.ChangedAt <= activeFor && (e.PublishedAt is null || now - e.PublishedAt >= republishEvery);
                if (e.Dirty || stale)
                {
                    due.Add(e.Counts);
                    _windows[id] = e with { Dirty = false, PublishedAt = now };
                }
            }
        }

        return due;
    }

    /// <summary>Puts snapshots back when publishing them failed, so the next round tries again.</summary>
    public void MarkUnpublished(IEnumerable<WindowCounts> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        lock (_gate)
        {
            foreach (var c in counts)
            {
                if (_windows.TryGetValue(c.WindowId, out var e) && e.Counts.Seq == c.Seq)
                {
                    _windows[c.WindowId] = e with { Dirty = true };
                }
            }
        }
    }

    public WindowCounts? Get(string windowId)
    {
        lock (_gate)
        {
            return _windows.TryGetValue(windowId, out var e) ? e.Counts : null;
        }
    }

    private sealed record Entry(WindowCounts Counts, bool Dirty, DateTimeOffset ChangedAt, DateTimeOffset? PublishedAt);
}
