namespace FanVote.Contracts.Events;

/// <summary>Credit points to an account; idempotent per (window, account, reason).</summary>
public sealed record RewardRequested : FanVoteEvent
{
    /// <summary>The window the reward is for.</summary>
    public required string WindowId { get; init; }

    /// <summary>The account to credit.</summary>
    public required string AccountId { get; init; }

    /// <summary>Why, e.g. "counted-vote", "winner-bonus".</summary>
    public required string Reason { get; init; }

    /// <summary>Points to credit (positive).</summary>
    public required long Points { get; init; }
}
