using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using FanVote.Workflows;

namespace FanVote.Orchestrator.Adapters;

/// <summary>
/// The lifecycle's facts on `window-events`, published through Dapr with the CloudEvent type set (subscribers route
/// on `event.type`). Event ids are derived from (window, fact), so a step repeated after a crash republishes the
/// same id and consumers can drop the duplicate.
/// </summary>
public sealed class DaprWindowAnnouncements(DaprClient dapr) : IWindowAnnouncements
{
    public Task ScheduledAsync(WindowDefinition definition, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return dapr.PublishTypedAsync(Topics.WindowEvents, EventTypes.WindowScheduled, new WindowScheduled
        {
            EventId = EventIds.Stable(definition.WindowId, EventTypes.WindowScheduled),
            OccurredAt = at,
            WindowId = definition.WindowId,
            Title = definition.Title,
            Candidates = definition.Candidates,
            OpensAt = definition.OpensAt,
            ClosesAt = definition.ClosesAt,
            VotesPerAccount = definition.VotesPerAccount,
        }, cancellationToken);
    }

    public Task OpenedAsync(WindowDefinition definition, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return dapr.PublishTypedAsync(Topics.WindowEvents, EventTypes.WindowOpened, new WindowOpened
        {
            EventId = EventIds.Stable(definition.WindowId, EventTypes.WindowOpened),
            OccurredAt = at,
            WindowId = definition.WindowId,
            Candidates = definition.Candidates,
            ClosesAt = definition.ClosesAt,
        }, cancellationToken);
    }

    public Task ClosedAsync(string windowId, DateTimeOffset at, CancellationToken cancellationToken) =>
        dapr.PublishTypedAsync(Topics.WindowEvents, EventTypes.WindowClosed, new WindowClosed
        {
            EventId = EventIds.Stable(windowId, EventTypes.WindowClosed),
            OccurredAt = at,
            WindowId = windowId,
            ClosedAt = at,
        }, cancellationToken);

    public Task CertifiedAsync(CertifiedResult result, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        return dapr.PublishTypedAsync(Topics.WindowEvents, EventTypes.WindowCertified, new WindowCertified
        {
            EventId = EventIds.Stable(result.WindowId, EventTypes.WindowCertified),
            OccurredAt = at,
            WindowId = result.WindowId,
            Result = result,
        }, cancellationToken);
    }

    public Task CompletedAsync(string windowId, string digest, DateTimeOffset at, CancellationToken cancellationToken) =>
        dapr.PublishTypedAsync(Topics.WindowEvents, EventTypes.WindowCompleted, new WindowCompleted
        {
            EventId = EventIds.Stable(windowId, EventTypes.WindowCompleted),
            OccurredAt = at,
            WindowId = windowId,
            Digest = digest,
        }, cancellationToken);
}

/// <summary>
/// Requests to the services that hold the data: counts and the audit on `window-requests`, the payout on
/// `reward-requests`. Ids are stable per (window, request, attempt).
/// </summary>
public sealed class DaprWindowRequests(DaprClient dapr) : IWindowRequests
{
    public Task CountsAsync(string windowId, long seq, DateTimeOffset at, CancellationToken cancellationToken) =>
        dapr.PublishTypedAsync(Topics.WindowRequests, EventTypes.VoteCountsRequested, new VoteCountsRequested
        {
            EventId = EventIds.Stable(windowId, EventTypes.VoteCountsRequested, Seq(seq)),
            OccurredAt = at,
            WindowId = windowId,
            Seq = seq,
        }, cancellationToken);

    public Task AuditAsync(AuditRequest request, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return dapr.PublishTypedAsync(Topics.WindowRequests, EventTypes.AuditRequested, new AuditRequested
        {
            EventId = EventIds.Stable(request.WindowId, EventTypes.AuditRequested, Seq(request.Seq)),
            OccurredAt = at,
            WindowId = request.WindowId,
            Seq = request.Seq,
            Candidates = request.Candidates,
            Accepted = request.Accepted,
            Unconfirmed = request.Unconfirmed,
            Nonce = request.Nonce,
            ClosesAt = request.ClosesAt,
        }, cancellationToken);
    }

    public Task PayoutAsync(string windowId, long seq, PayoutRules rules, CertifiedResult certified, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certified);
        return dapr.PublishTypedAsync(Topics.RewardRequests, EventTypes.PayoutRequested, new PayoutRequested
        {
            EventId = EventIds.Stable(windowId, EventTypes.PayoutRequested, Seq(seq)),
            OccurredAt = at,
            WindowId = windowId,
            Seq = seq,
            Rules = rules,
            Winners = certified.Winners,
            Voters = certified.Voters,
            VoterChunks = certified.VoterChunks,
            VotersDigest = certified.VotersDigest,
        }, cancellationToken);
    }

    private static string Seq(long seq) => seq.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
