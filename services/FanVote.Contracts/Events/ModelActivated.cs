namespace FanVote.Contracts.Events;

/// <summary>
/// A fraud service instance switched to a fraud model (at start, or when a new version was promoted), fraud → the
/// orchestrator on `window-reports`: the action log records which model judged votes from when (issue 16).
/// </summary>
public sealed record ModelActivated : FanVoteEvent
{
    /// <summary>The model version now in use.</summary>
    public required string Version { get; init; }

    /// <summary>The version it replaced on this instance (null at start).</summary>
    public string? Previous { get; init; }

    /// <summary>The trainer's algorithm name.</summary>
    public required string Algorithm { get; init; }

    /// <summary>The score at and above which a vote is suspect.</summary>
    public required double Threshold { get; init; }

    /// <summary>Which fraud instance (host name and process id).</summary>
    public required string Instance { get; init; }
}
