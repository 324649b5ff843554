namespace FanVote.Contracts.Events;

/// <summary>
/// The orchestrator asks for a closed window's counts while it drains (topic `window-requests`): ingress answers
/// with <see cref="AcceptedVotesReported"/>, tally with <see cref="PersistedVotesReported"/>. Asked again on
/// every poll, so a lost request or answer only delays the drain. The operator console asks the same question while
/// it watches a window (<see cref="Watch"/>): those answers are shown to the operator and never reach the drain.
/// </summary>
public sealed record VoteCountsRequested : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The orchestrator's poll number; answers echo it.</summary>
    public required long Seq { get; init; }

    /// <summary>
    /// True when an operator watches the window (any phase) rather than the drain asking: the answers echo it, so the
    /// orchestrator keeps them for the console and does not hand them to the window's workflow; ingress then leaves
    /// out the unconfirmed vote ids (only the audit needs them).
    /// </summary>
    public bool Watch { get; init; }
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

    /// <summary>Echoes <see cref="VoteCountsRequested.Watch"/>: this answers an operator's watch, not the drain.</summary>
    public bool Watch { get; init; }

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

    /// <summary>Echoes <see cref="VoteCountsRequested.Watch"/>: this answers an operator's watch, not the drain.</summary>
    public bool Watch { get; init; }

    /// <summary>The fraud service's triggers so far: votes of the window it flagged (each once), by first reason code, and how many subjects they were about.</summary>
    public FlagCounts Flags { get; init; } = FlagCounts.None;
}

/// <summary>Votes of one window the fraud service flagged, as tally holds them beside the ledger (the audit excludes them).</summary>
/// <param name="Votes">Flagged votes (each counted once, however often flagged).</param>
/// <param name="Subjects">Distinct subjects (account, device, IP prefix) the flags were about.</param>
/// <param name="ByReason">Flagged votes per first reason code, e.g. "device-farm".</param>
public sealed record FlagCounts(long Votes, long Subjects, IReadOnlyDictionary<string, long> ByReason)
{
    /// <summary>Nothing flagged.</summary>
    public static FlagCounts None { get; } = new(0, 0, new Dictionary<string, long>());
}
