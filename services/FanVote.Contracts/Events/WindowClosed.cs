namespace FanVote.Contracts.Events;

/// <summary>A voting window closed; no vote is accepted after <see cref="ClosedAt"/>.</summary>
public sealed record WindowClosed : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>When it closed.</summary>
    public required DateTimeOffset ClosedAt { get; init; }
}
