namespace FanVote.Contracts.Events;

/// <summary>Ingress accepted a vote and the broker acknowledged it. The vote id is the ledger's primary key.</summary>
public sealed record VoteAccepted : FanVoteEvent
{
    /// <summary>Current schema version.</summary>
    public const int CurrentSchemaVersion = 2;

    /// <summary>A new vote carries the current schema version (2: sealed).</summary>
    public VoteAccepted() => SchemaVersion = CurrentSchemaVersion;

    /// <summary>Vote id (also returned to the fan in the receipt); redelivery of the same id is harmless.</summary>
    public required Guid VoteId { get; init; }

    /// <summary>The voting window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The chosen candidate.</summary>
    public required string CandidateId { get; init; }

    /// <summary>The signed-in account.</summary>
    public required string AccountId { get; init; }

    /// <summary>The device of the fan's session (from the signed token, never from a header).</summary>
    public required string DeviceId { get; init; }

    /// <summary>Client IP address as ingress saw it.</summary>
    public required string Ip { get; init; }

    /// <summary>When the account was created (for the account-age feature).</summary>
    public required DateTimeOffset AccountCreatedAt { get; init; }

    /// <summary>
    /// Ingress's seal over every field above and the acceptance time (<see cref="FanVoteEvent.OccurredAt"/>): base64url
    /// HMAC-SHA256 under a key only ingress and tally hold (FanVote.Security's VoteSeal). Tally counts no vote without it.
    /// </summary>
    public required string Seal { get; init; }
}
