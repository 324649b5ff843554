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

    /// <summary>Runs the window workflows (one Dapr workflow per window) and the operator API.</summary>
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
    /// <see cref="Events.WindowClosed"/>, <see cref="Events.WindowCertified"/>, <see cref="Events.WindowCompleted"/>). Each is published with its type name as the CloudEvent type
    /// (<see cref="EventTypes"/>), so subscribers route on <c>event.type</c>.
    /// </summary>
    public const string WindowEvents = "window-events";

    /// <summary>Reward credits to make (<see cref="Events.RewardRequested"/>).</summary>
    public const string RewardRequests = "reward-requests";

    /// <summary>Vote ids the fraud service flagged (<see cref="Events.VotesFlagged"/>); the audit excludes them.</summary>
    public const string VoteFlags = "vote-flags";

    /// <summary>Where flags go that exhausted their delivery retries.</summary>
    public const string VoteFlagsDeadLetter = "vote-flags-dlq";

    /// <summary>
    /// Requests from the lifecycle to the services that hold the data (<see cref="Events.VoteCountsRequested"/>,
    /// <see cref="Events.AuditRequested"/>, <see cref="Events.CountedVotersRequested"/>), routed on the CloudEvent type.
    /// </summary>
    public const string WindowRequests = "window-requests";

    /// <summary>
    /// Answers to the orchestrator (<see cref="Events.AcceptedVotesReported"/>, <see cref="Events.PersistedVotesReported"/>,
    /// <see cref="Events.WindowAudited"/>, <see cref="Events.RewardsPaid"/>), and for the action log fraud's
    /// <see cref="Events.ModelActivated"/> and each app's <see cref="Events.KeysInUse"/>, routed on the CloudEvent type.
    /// </summary>
    public const string WindowReports = "window-reports";

    /// <summary>A certified window's Merkle leaves, tally → results (<see cref="Events.ReceiptChunk"/>).</summary>
    public const string ReceiptChunks = "receipt-chunks";

    /// <summary>A certified window's counted voters, tally → rewards (<see cref="Events.CountedVotersChunk"/>).</summary>
    public const string CountedVoters = "counted-voters";

    /// <summary>
    /// Rewards asks tally for a certified window's counted voters (<see cref="Events.CountedVotersRequested"/>). A topic
    /// of its own, not `window-requests`: pub/sub scopes are per topic, and only the orchestrator may ask for counts and audits.
    /// </summary>
    public const string VoterRequests = "voter-requests";

    /// <summary>Consent as it stands after a fan changed it (ingress → rewards: points are credited only to fans who gave "rewards").</summary>
    public const string ConsentEvents = "consent-events";

    /// <summary>
    /// A fan's data requests, the orchestrator's data-rights workflow → every service that holds fans' data
    /// (<see cref="Events.DataRequested"/>: export or erase one account's data).
    /// </summary>
    public const string DataRequests = "data-requests";

    /// <summary>The services' answers to <see cref="DataRequests"/> (<see cref="Events.DataReported"/>), → the orchestrator.</summary>
    public const string DataReports = "data-reports";

    /// <summary>A fan's VIP tier changes (<see cref="Events.TierChanged"/>), rewards → whoever unlocks something by tier.</summary>
    public const string FanTiers = "fan-tiers";

    /// <summary>Poll questions' live results (<see cref="Events.PollUpdated"/>), rewards → results.</summary>
    public const string PollUpdated = "poll-updated";

    /// <summary>The app ids that hold a fan's data and answer <see cref="DataRequests"/>.</summary>
    public static IReadOnlyList<string> DataHolders { get; } = [AppIds.Ingress, AppIds.Tally, AppIds.Fraud, AppIds.Rewards, AppIds.Results];

    /// <summary>Every topic, with the app ids that may publish it and those that may subscribe (the components' publishingScopes / subscriptionScopes say the same).</summary>
    public static IReadOnlyList<(string Topic, string[] Publishers, string[] Subscribers)> Scopes { get; } =
    [
        (Votes, [AppIds.Ingress], [AppIds.Tally, AppIds.Fraud]),
        (VotesDeadLetter, [AppIds.Tally], [AppIds.Tally]),
        (VotesFraudDeadLetter, [AppIds.Fraud], [AppIds.Fraud]),
        (TallyUpdated, [AppIds.Tally], [AppIds.Results]),
        (RiskVerdicts, [AppIds.Fraud], [AppIds.Ingress]),
        (VoteFlags, [AppIds.Fraud], [AppIds.Tally]),
        (VoteFlagsDeadLetter, [AppIds.Tally], [AppIds.Tally]),
        (WindowEvents, [AppIds.Orchestrator], [AppIds.Ingress, AppIds.Tally, AppIds.Results]),
        (WindowRequests, [AppIds.Orchestrator], [AppIds.Ingress, AppIds.Tally]),
        (WindowReports, [AppIds.Ingress, AppIds.Tally, AppIds.Rewards, AppIds.Fraud], [AppIds.Orchestrator]),
        (RewardRequests, [AppIds.Orchestrator], [AppIds.Rewards]),
        (ReceiptChunks, [AppIds.Tally], [AppIds.Results]),
        (CountedVoters, [AppIds.Tally], [AppIds.Rewards]),
        (VoterRequests, [AppIds.Rewards], [AppIds.Tally]),
        (ConsentEvents, [AppIds.Ingress], [AppIds.Rewards]),
        (DataRequests, [AppIds.Orchestrator], [AppIds.Ingress, AppIds.Tally, AppIds.Fraud, AppIds.Rewards, AppIds.Results]),
        (DataReports, [AppIds.Ingress, AppIds.Tally, AppIds.Fraud, AppIds.Rewards, AppIds.Results], [AppIds.Orchestrator]),
        (FanTiers, [AppIds.Rewards], []),
        (PollUpdated, [AppIds.Rewards], [AppIds.Results]),
    ];
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

    /// <summary><see cref="Events.WindowCertified"/>.</summary>
    public const string WindowCertified = "fanvote.window.certified.v1";

    /// <summary><see cref="Events.WindowCompleted"/>.</summary>
    public const string WindowCompleted = "fanvote.window.completed.v1";

    /// <summary><see cref="Events.VoteCountsRequested"/>.</summary>
    public const string VoteCountsRequested = "fanvote.window.counts-requested.v1";

    /// <summary><see cref="Events.AuditRequested"/>.</summary>
    public const string AuditRequested = "fanvote.window.audit-requested.v1";

    /// <summary><see cref="Events.CountedVotersRequested"/>.</summary>
    public const string CountedVotersRequested = "fanvote.window.voters-requested.v1";

    /// <summary><see cref="Events.AcceptedVotesReported"/>.</summary>
    public const string AcceptedVotesReported = "fanvote.window.accepted-reported.v1";

    /// <summary><see cref="Events.PersistedVotesReported"/>.</summary>
    public const string PersistedVotesReported = "fanvote.window.persisted-reported.v1";

    /// <summary><see cref="Events.WindowAudited"/>.</summary>
    public const string WindowAudited = "fanvote.window.audited.v1";

    /// <summary><see cref="Events.RewardsPaid"/>.</summary>
    public const string RewardsPaid = "fanvote.window.rewards-paid.v1";

    /// <summary><see cref="Events.ConsentChanged"/>.</summary>
    public const string ConsentChanged = "fanvote.fan.consent-changed.v1";

    /// <summary>On <see cref="Topics.FanTiers"/>: a fan reached another VIP tier.</summary>
    public const string TierChanged = "fanvote.fan.tier-changed.v1";

    /// <summary><see cref="Events.ModelActivated"/>.</summary>
    public const string ModelActivated = "fanvote.fraud.model-activated.v1";

    /// <summary><see cref="Events.KeysInUse"/>.</summary>
    public const string KeysInUse = "fanvote.keys.in-use.v1";

    /// <summary><see cref="Events.PayoutRequested"/> on `reward-requests` (the default route there takes <see cref="Events.RewardRequested"/>).</summary>
    public const string PayoutRequested = "fanvote.rewards.payout-requested.v1";
}
