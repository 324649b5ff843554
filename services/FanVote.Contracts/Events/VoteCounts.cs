namespace FanVote.Contracts.Events;

/// <summary>
/// The orchestrator asks for a closed window's counts while it drains (topic `window-requests`): ingress answers
/// with <see cref="AcceptedVotesReported"/>, tally with <see cref="PersistedVotesReported"/>. Asked again on
/// every poll, so a lost request or answer only delays the drain.
/// </summary>
public sealed record VoteCountsRequested : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The orchestrator's poll number; answers echo it.</summary>
    public required long Seq { get; init; }
}

/// <summary>How many votes of the window ingress answered 202 for, as of <see cref="FanVoteEvent.OccurredAt"/> (ingress's clock).</summary>
public sealed record AcceptedVotesReported : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The <see cref="VoteCountsRequested.Seq"/> this answers.</summary>
    public required long Seq { get; init; }

    /// <summary>Votes accepted (each counted once, however often it was retried).</summary>
    public required long Accepted { get; init; }
}

/// <summary>How many votes of the window the ledger holds, as of <see cref="FanVoteEvent.OccurredAt"/> (tally's clock).</summary>
public sealed record PersistedVotesReported : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The <see cref="VoteCountsRequested.Seq"/> this answers.</summary>
    public required long Seq { get; init; }

    /// <summary>Votes committed to the ledger.</summary>
    public required long Persisted { get; init; }
}
