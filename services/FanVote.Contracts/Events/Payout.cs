namespace FanVote.Contracts.Events;

/// <summary>How a window rewards its voters. Points are whole numbers; 0 turns a rule off.</summary>
public sealed record PayoutRules
{
    /// <summary>Points per counted vote.</summary>
    public long PointsPerVote { get; init; } = 10;

    /// <summary>Points once per account that cast at least one counted vote for a winner.</summary>
    public long WinnerBonus { get; init; } = 50;
}

/// <summary>
/// The orchestrator asks rewards to pay a certified window (topic `reward-requests`), again on every retry until
/// <see cref="RewardsPaid"/> arrives. Rewards fetches the counted voters from tally (<see cref="CountedVotersRequested"/>)
/// and checks them against <see cref="VotersDigest"/> before it pays anything.
/// </summary>
public sealed record PayoutRequested : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The orchestrator's attempt number.</summary>
    public required long Seq { get; init; }

    /// <summary>The window's payout rules.</summary>
    public required PayoutRules Rules { get; init; }

    /// <summary>The certified winners.</summary>
    public required IReadOnlyList<string> Winners { get; init; }

    /// <summary>Accounts with counted votes (certified).</summary>
    public required long Voters { get; init; }

    /// <summary>How many <see cref="CountedVotersChunk"/> carry them.</summary>
    public required int VoterChunks { get; init; }

    /// <summary>The certified digest of the counted voters.</summary>
    public required string VotersDigest { get; init; }
}

/// <summary>Rewards asks tally for a certified window's counted voters (topic `window-requests`).</summary>
public sealed record CountedVotersRequested : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }
}

/// <summary>One account's counted votes per candidate.</summary>
public sealed record CountedVoter
{
    /// <summary>The account.</summary>
    public required string AccountId { get; init; }

    /// <summary>Counted votes by candidate id.</summary>
    public required IReadOnlyDictionary<string, long> Votes { get; init; }
}

/// <summary>A slice of a certified window's counted voters in account order (topic `counted-voters`, tally → rewards).</summary>
public sealed record CountedVotersChunk : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>0-based.</summary>
    public required int ChunkIndex { get; init; }

    /// <summary>How many chunks the window has.</summary>
    public required int ChunkCount { get; init; }

    /// <summary>The voters of this slice.</summary>
    public required IReadOnlyList<CountedVoter> Voters { get; init; }
}

/// <summary>
/// Rewards paid a window (topic `window-reports`): every credit is committed. Sent again, unchanged, for every
/// repeated <see cref="PayoutRequested"/>.
/// </summary>
public sealed record RewardsPaid : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>Accounts credited.</summary>
    public required long Accounts { get; init; }

    /// <summary>Points credited in all.</summary>
    public required long Points { get; init; }

    /// <summary>Ledger entries the payout appended (the pool funding included).</summary>
    public required long Entries { get; init; }

    /// <summary>Sequence number of the ledger's last entry after the payout: an anchor for `ledger verify --head`.</summary>
    public required long LedgerHeadSeq { get; init; }

    /// <summary>Hex hash of that entry.</summary>
    public required string LedgerHeadHash { get; init; }

    /// <summary>The voters digest the payout was checked against.</summary>
    public required string VotersDigest { get; init; }

    /// <summary>Counted voters not credited: they had not given "rewards" when the window was paid (issue 16).</summary>
    public long WithoutConsent { get; init; }
}
