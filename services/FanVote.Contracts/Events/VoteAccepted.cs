namespace FanVote.Contracts.Events;

/// <summary>Ingress accepted a vote and the broker acknowledged it. The vote id is the ledger's primary key.</summary>
public sealed record VoteAccepted : FanVoteEvent
{
    /// <summary>Current schema version.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>Vote id (also returned to the fan in the receipt); redelivery of the same id is harmless.</summary>
    public required Guid VoteId { get; init; }

    /// <summary>The voting window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The chosen candidate.</summary>
    public required string CandidateId { get; init; }

    /// <summary>The signed-in account.</summary>
    public required string AccountId { get; init; }

    /// <summary>The device id the client sent.</summary>
    public required string DeviceId { get; init; }

    /// <summary>Client IP address as ingress saw it.</summary>
    public required string Ip { get; init; }

    /// <summary>When the account was created (for the account-age feature).</summary>
    public required DateTimeOffset AccountCreatedAt { get; init; }
}
