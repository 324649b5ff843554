namespace FanVote.Contracts.Events;

/// <summary>
/// A fan reached another VIP tier (rewards → `fan-tiers`, for any service that unlocks something by tier). Published
/// from rewards' outbox after the ledger transaction that moved the fan's earned points commits: at least once, with
/// a stable event id per change.
/// </summary>
public sealed record TierChanged : FanVoteEvent
{
    /// <summary>The account (as in the ledger: the id ingress gave the fan).</summary>
    public required string AccountId { get; init; }

    /// <summary>The tier before the change.</summary>
    public required string From { get; init; }

    /// <summary>The tier after the change.</summary>
    public required string To { get; init; }

    /// <summary>The fan's earned points after the change, counted over <see cref="Season"/> ("lifetime" or the season's name).</summary>
    public required long Earned { get; init; }

    /// <summary>What earned points are counted over: "lifetime", or the season's name.</summary>
    public required string Season { get; init; }

    /// <summary>The new tier's badge, if it has one.</summary>
    public string? Badge { get; init; }
}
