namespace FanVote.Contracts.Events;

/// <summary>A voting window opened.</summary>
public sealed record WindowOpened : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>Candidate ids in display order.</summary>
    public required IReadOnlyList<string> Candidates { get; init; }

    /// <summary>Scheduled close.</summary>
    public required DateTimeOffset ClosesAt { get; init; }
}
