using System.Collections.Concurrent;

namespace FanVote.Sidecar.TestActors;

public sealed record JournalEntry(string Event, DateTimeOffset Start, DateTimeOffset End);

/// <summary>What happened to each actor, in process memory (it survives a restart of the sidecar, not of the app).</summary>
public sealed class Journal
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<JournalEntry>> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _counters = new(StringComparer.Ordinal);

    public void Add(string type, string id, string evt, DateTimeOffset? start = null) =>
        _entries.GetOrAdd($"{type}/{id}", _ => new()).Enqueue(new JournalEntry(evt, start ?? DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));

    public IReadOnlyList<JournalEntry> Read(string type, string id) =>
        _entries.TryGetValue($"{type}/{id}", out var q) ? [.. q] : [];

    /// <summary>Decrements a named counter; true while it was still positive.</summary>
    public bool TakeOne(string key)
    {
        var taken = false;
        _counters.AddOrUpdate(key, 0, (_, v) =>
        {
            taken = v > 0;
            return Math.Max(0, v - 1);
        });
        return taken;
    }

    public void Set(string key, int value) => _counters[key] = value;
}
