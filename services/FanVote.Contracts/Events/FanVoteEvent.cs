namespace FanVote.Contracts.Events;

/// <summary>
/// Base of every event. The sender sets <see cref="EventId"/>; it survives serialization (init setter), so
/// receivers can de-duplicate on it.
/// </summary>
public abstract record FanVoteEvent
{
    /// <summary>Unique per event, set by the sender.</summary>
    public required Guid EventId { get; init; }

    /// <summary>When the fact happened (UTC).</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>Version of this event's shape; a receiver rejects versions it does not know.</summary>
    public int SchemaVersion { get; init; } = 1;
}
