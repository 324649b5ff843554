namespace FanVote.Contracts.Events;

/// <summary>A snapshot of one window's live counts. <see cref="Seq"/> only grows; receivers ignore older ones.</summary>
public sealed record TallyUpdated : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>Monotonic sequence number per window.</summary>
    public required long Seq { get; init; }

    /// <summary>Sum of <see cref="Counts"/>.</summary>
    public required long Total { get; init; }

    /// <summary>Votes per candidate id.</summary>
    public required IReadOnlyDictionary<string, long> Counts { get; init; }
}
