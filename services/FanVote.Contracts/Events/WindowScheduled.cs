namespace FanVote.Contracts.Events;

/// <summary>
/// An operator created a voting window. Ingress enforces the schedule locally from this event (no call per
/// vote), results and tally learn the candidates from it.
/// </summary>
public sealed record WindowScheduled : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>Human-readable title (shown on the results page).</summary>
    public required string Title { get; init; }

    /// <summary>Candidate ids in display order.</summary>
    public required IReadOnlyList<string> Candidates { get; init; }

    /// <summary>First instant a vote is accepted (UTC).</summary>
    public required DateTimeOffset OpensAt { get; init; }

    /// <summary>First instant a vote is refused (UTC).</summary>
    public required DateTimeOffset ClosesAt { get; init; }

    /// <summary>How many votes one account may cast in this window.</summary>
    public required int VotesPerAccount { get; init; }
}
