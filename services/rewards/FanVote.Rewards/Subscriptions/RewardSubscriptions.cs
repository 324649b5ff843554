using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Payouts;
using FanVote.ServiceDefaults;

namespace FanVote.Rewards;

/// <summary>
/// `reward-requests`: window payouts (PayoutRequested, routed on the CloudEvent type) and single credits
/// (RewardRequested, the default route); `counted-voters`: the voters tally sends for a payout.
/// </summary>
public static class RewardSubscriptions
{
    public static WebApplication MapRewardSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/reward-requests/payout", async (PayoutRequested e, PayoutService payouts, CancellationToken ct) =>
        {
            await payouts.RequestedAsync(e, ct);
            return TypedResults.Ok();
        }).ForEventType(Topics.RewardRequests, EventTypes.PayoutRequested);
        app.MapPost("/reward-requests", async (RewardRequested e, PostgresPointsLedger ledger, TimeProvider time, ILogger<PayoutService> log, CancellationToken ct) =>
        {
            if (e.Points <= 0)
            {
                return Results.Ok(); // nothing to credit; retrying would not change that
            }

            if (await ledger.CreditAsync(e, time.GetUtcNow(), ct))
            {
                RewardsLog.Credited(log, e.Points, e.AccountId, e.WindowId, e.Reason);
            }

            return Results.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.RewardRequests);
        app.MapPost("/counted-voters", async (CountedVotersChunk e, PayoutService payouts, CancellationToken ct) =>
        {
            await payouts.VotersArrivedAsync(e, ct);
            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.CountedVoters);
        return app;
    }
}
