namespace FanVote.Contracts.Events;

/// <summary>
/// A fan's consent as it stands after they changed it (ingress → rewards on `consent-events`): the purposes in effect
/// now, by name ("counting", "fraud-prevention", "rewards", "marketing"), and the age band. Each event carries the
/// whole standing, so the latest by <see cref="FanVoteEvent.OccurredAt"/> wins and a repeat changes nothing.
/// </summary>
public sealed record ConsentChanged : FanVoteEvent
{
    /// <summary>The account (a pseudonym: <c>g_</c>/<c>u_</c> + a keyed hash).</summary>
    public required string AccountId { get; init; }

    /// <summary>The purposes in effect after the change.</summary>
    public required IReadOnlyList<string> Purposes { get; init; }

    /// <summary>"unknown", "child", "minor" or "adult".</summary>
    public required string AgeBand { get; init; }
}
