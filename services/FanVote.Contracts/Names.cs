namespace FanVote.Contracts;

/// <summary>Dapr app ids: the same strings appear in dapr.yaml, component scopes and Kubernetes annotations.</summary>
public static class AppIds
{
    /// <summary>The fan-facing write path.</summary>
    public const string Ingress = "ingress";

    /// <summary>Writes the vote ledger and the live counts.</summary>
    public const string Tally = "tally";

    /// <summary>Scores vote velocity and issues risk verdicts.</summary>
    public const string Fraud = "fraud";

    /// <summary>Serves live results and the results page.</summary>
    public const string Results = "results";

    /// <summary>The points ledger.</summary>
    public const string Rewards = "rewards";

    /// <summary>Hosts the window actors and the operator API.</summary>
    public const string Orchestrator = "orchestrator";

    /// <summary>Every app id, in the order the launcher starts them.</summary>
    public static IReadOnlyList<string> All { get; } = [Orchestrator, Tally, Fraud, Results, Rewards, Ingress];
}

/// <summary>Dapr component names; each region's YAML defines exactly these.</summary>
public static class ComponentNames
{
    /// <summary>The pub/sub component every topic lives on.</summary>
    public const string VoteBus = "vote-bus";

    /// <summary>The state store (actors, risk cache).</summary>
    public const string State = "fanvote-state";
}

/// <summary>Topic names on <see cref="ComponentNames.VoteBus"/>.</summary>
public static class Topics
{
    /// <summary>Accepted votes (<see cref="Events.VoteAccepted"/>).</summary>
    public const string Votes = "votes";

    /// <summary>Where votes go that exhausted their delivery retries to the tally.</summary>
    public const string VotesDeadLetter = "votes-dlq";

    /// <summary>
    /// Where votes go that the fraud service could not take. Its own topic: a vote the fraud service could not score
    /// is not a vote the ledger is missing, and an operator replaying tally's dead letters must not see these.
    /// </summary>
    public const string VotesFraudDeadLetter = "votes-fraud-dlq";

    /// <summary>Live count snapshots (<see cref="Events.TallyUpdated"/>).</summary>
    public const string TallyUpdated = "tally-updated";

    /// <summary>Fraud verdicts (<see cref="Events.RiskVerdictIssued"/>).</summary>
    public const string RiskVerdicts = "risk-verdicts";

    /// <summary>
    /// Window lifecycle facts (<see cref="Events.WindowScheduled"/>, <see cref="Events.WindowOpened"/>,
    /// <see cref="Events.WindowClosed"/>). Each is published with its type name as the CloudEvent type
    /// (<see cref="EventTypes"/>), so subscribers route on <c>event.type</c>.
    /// </summary>
    public const string WindowEvents = "window-events";

    /// <summary>Reward credits to make (<see cref="Events.RewardRequested"/>).</summary>
    public const string RewardRequests = "reward-requests";

    /// <summary>Vote ids the fraud service flagged (<see cref="Events.VotesFlagged"/>); the audit excludes them.</summary>
    public const string VoteFlags = "vote-flags";
}

/// <summary>CloudEvent `type` values for topics that carry more than one event type.</summary>
public static class EventTypes
{
    /// <summary>Metadata key that sets the CloudEvent type on publish (a Dapr convention).</summary>
    public const string MetadataKey = "cloudevent.type";

    /// <summary><see cref="Events.WindowScheduled"/>.</summary>
    public const string WindowScheduled = "fanvote.window.scheduled.v1";

    /// <summary><see cref="Events.WindowOpened"/>.</summary>
    public const string WindowOpened = "fanvote.window.opened.v1";

    /// <summary><see cref="Events.WindowClosed"/>.</summary>
    public const string WindowClosed = "fanvote.window.closed.v1";
}
