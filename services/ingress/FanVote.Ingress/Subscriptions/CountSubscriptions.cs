using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Ingress.Adapters;
using FanVote.Ingress.Core;
using FanVote.ServiceDefaults;
using StackExchange.Redis;

namespace FanVote.Ingress;

/// <summary>
/// `window-requests`: the orchestrator's drain asks how many votes of a window ingress accepted; the answer (the
/// `ingress:accepted:&lt;window&gt;` counter every instance shares, and the votes sent without confirmation) goes back on
/// `window-reports`. The time is taken before the read, so the count is at least the count as of that time. An
/// operator's watch (<see cref="VoteCountsRequested.Watch"/>) gets the count alone: only the audit needs the unconfirmed ids.
/// </summary>
public static class CountSubscriptions
{
    public static WebApplication MapCountSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/window-requests/counts", async (VoteCountsRequested e, IConnectionMultiplexer redis, IAdmissionStore admission, DaprClient dapr, TimeProvider time, CancellationToken ct) =>
        {
            var asOf = time.GetUtcNow();
            var accepted = (long?)await redis.GetDatabase().StringGetAsync(RedisAdmissionStore.AcceptedKey(e.WindowId)) ?? 0;
            var (unconfirmed, truncated) = e.Watch ? ([], false) : await admission.UnconfirmedAsync(e.WindowId, AcceptedVotesReported.MaxUnconfirmed, ct);
            await dapr.PublishTypedAsync(Topics.WindowReports, EventTypes.AcceptedVotesReported, new AcceptedVotesReported
            {
                EventId = Guid.NewGuid(),
                OccurredAt = asOf,
                WindowId = e.WindowId,
                Seq = e.Seq,
                Accepted = accepted,
                Unconfirmed = unconfirmed,
                UnconfirmedTruncated = truncated,
                Watch = e.Watch,
            }, ct);
            return TypedResults.Ok();
        }).ForEventType(Topics.WindowRequests, EventTypes.VoteCountsRequested);
        app.MapIgnoredEvents(Topics.WindowRequests);
        return app;
    }
}
