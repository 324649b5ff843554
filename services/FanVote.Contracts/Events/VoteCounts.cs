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

    /// <summary>
    /// Votes ingress sealed and sent to the broker whose acknowledgement never came (their fan got 503 and has not
    /// retried with success): each may or may not be in the ledger. Only these can make the ledger hold more than
    /// <see cref="Accepted"/>; the audit checks every extra vote against this list. At most
    /// <see cref="MaxUnconfirmed"/> ids; <see cref="UnconfirmedTruncated"/> says more exist (the audit then cannot explain them all).
    /// </summary>
    public IReadOnlyList<Guid> Unconfirmed { get; init; } = [];

    /// <summary>True when more than <see cref="MaxUnconfirmed"/> votes are unconfirmed.</summary>
    public bool UnconfirmedTruncated { get; init; }

    /// <summary>The most unconfirmed vote ids one report carries (keeps the event well under a broker's message size limit).</summary>
    public const int MaxUnconfirmed = 20_000;
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
