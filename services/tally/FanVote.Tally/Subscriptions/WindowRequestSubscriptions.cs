using Dapr;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using FanVote.Tally.Adapters;
using FanVote.Tally.Audit;

namespace FanVote.Tally;

/// <summary>
/// `window-requests` from the orchestrator (routed on the CloudEvent type): the drain's count request is answered at
/// once from the ledger (an operator's watch also gets the window's fraud flags so far); an audit request is queued for the <see cref="AuditWorker"/>, which audits only a known window
/// after its close and answers when done. `voter-requests` from rewards: the counted voters of an audited window.
/// Only the sidecar may call these routes, and only those apps may publish those topics (pub/sub scopes).
/// </summary>
public static class WindowRequestSubscriptions
{
    public static WebApplication MapWindowRequestSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/window-requests/counts", async (VoteCountsRequested e, PostgresAuditStore store, DaprClient dapr, TimeProvider time, CancellationToken ct) =>
        {
            var asOf = time.GetUtcNow();
            var persisted = await store.PersistedAsync(e.WindowId, ct);
            var flags = e.Watch ? await store.FlagCountsAsync(e.WindowId, ct) : FlagCounts.None;
            await dapr.PublishTypedAsync(Topics.WindowReports, EventTypes.PersistedVotesReported, new PersistedVotesReported
            {
                EventId = Guid.NewGuid(), OccurredAt = asOf, WindowId = e.WindowId, Seq = e.Seq, Persisted = persisted, Watch = e.Watch, Flags = flags,
            }, ct);
            return TypedResults.Ok();
        }).ForEventType(Topics.WindowRequests, EventTypes.VoteCountsRequested);
        app.MapPost("/window-requests/audit", (AuditRequested e, AuditWorker worker) =>
        {
            worker.Enqueue(new AuditWindowJob(e.WindowId, e.Candidates, e.Accepted, e.Unconfirmed, e.Nonce));
            return TypedResults.Ok();
        }).ForEventType(Topics.WindowRequests, EventTypes.AuditRequested);
        app.MapIgnoredEvents(Topics.WindowRequests);
        app.MapPost("/voter-requests", (CountedVotersRequested e, AuditWorker worker) =>
        {
            worker.Enqueue(new PublishVotersJob(e.WindowId));
            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.VoterRequests);
        return app;
    }
}
