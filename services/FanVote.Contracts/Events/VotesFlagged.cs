namespace FanVote.Contracts.Events;

/// <summary>
/// The fraud service found these votes suspect. Tally stores the flags beside the ledger so the audit can
/// recount without them; a vote id flagged twice is still excluded once.
/// </summary>
public sealed record VotesFlagged : FanVoteEvent
{
    /// <summary>The window the votes belong to.</summary>
    public required string WindowId { get; init; }

    /// <summary>The flagged vote ids (the ledger's primary keys).</summary>
    public required IReadOnlyList<Guid> VoteIds { get; init; }

    /// <summary>"account", "device" or "ip-prefix": what the verdict was about.</summary>
    public required string SubjectKind { get; init; }

    /// <summary>The account id, device id or IP prefix.</summary>
    public required string Subject { get; init; }

    /// <summary>Machine-readable reasons, e.g. "device-farm", "metronome"; the audit reports exclusions by the first one.</summary>
    public required IReadOnlyList<string> ReasonCodes { get; init; }

    /// <summary>Model score of the subject when it was flagged.</summary>
    public required double Score { get; init; }

    /// <summary>Version of the model that flagged them.</summary>
    public required string ModelVersion { get; init; }
}
