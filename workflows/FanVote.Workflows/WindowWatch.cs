using FanVote.Contracts.Events;

namespace FanVote.Workflows;

/// <summary>A count one service reported for a window and when it read it (that service's clock).</summary>
public sealed record CountAt(long Count, DateTimeOffset At)
{
    /// <summary>Whether a reading taken at <paramref name="incoming"/> replaces the one taken at <paramref name="stored"/>: the later one is kept (answers can arrive out of order).</summary>
    public static bool Supersedes(DateTimeOffset incoming, DateTimeOffset? stored) => stored is not { } s || incoming >= s;
}

/// <summary>
/// What an operator watching a window sees, from the latest answers to the console's own count requests (never the
/// drain's): votes ingress accepted, votes in the ledger, the difference still on its way (the queue depth of this
/// window: in the broker, in tally's batch, or in flight), and the fraud service's flags so far.
/// </summary>
/// <param name="WindowId">The window.</param>
/// <param name="Accepted">Ingress's accepted count (every instance's shared counter); null until ingress has answered.</param>
/// <param name="Persisted">Tally's ledger count; null until tally has answered.</param>
/// <param name="Flags">Flagged votes, subjects and reasons, as of <see cref="Persisted"/>.</param>
public sealed record WindowWatch(string WindowId, CountAt? Accepted, CountAt? Persisted, FlagCounts Flags)
{
    /// <summary>
    /// Votes accepted and not yet in the ledger: accepted − persisted, never below 0 (the ledger can hold a vote whose
    /// fan got a 503 and never retried, which ingress did not count), null until both have answered. The two counts are
    /// read by two services a moment apart, so this is a reading, not a balance.
    /// </summary>
    public long? InFlight => Accepted is { } a && Persisted is { } p ? Math.Max(0, a.Count - p.Count) : null;
}
