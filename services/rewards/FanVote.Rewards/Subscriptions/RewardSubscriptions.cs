using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Payouts;
using FanVote.ServiceDefaults;

namespace FanVote.Rewards;

/// <summary>
/// `reward-requests`: window payouts (PayoutRequested, routed on the CloudEvent type) and single credits
/// (RewardRequested, the default route; at most <see cref="MaxSingleCredit"/> points); `counted-voters`: the voters tally
/// sends for a payout; `consent-events`: whether a fan has given "rewards" (payouts credit only those who have). Only
/// the sidecar may call these routes, and only the orchestrator (requests), tally (voters) and ingress (consent) may
/// publish these topics (pub/sub scopes).
/// </summary>
public static class RewardSubscriptions
{
    /// <summary>The most one single credit may carry (a window's per-vote points and bonus are bounded alike).</summary>
    public const long MaxSingleCredit = 1_000_000;

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
            if (e.Points is <= 0 or > MaxSingleCredit || !FanVote.Contracts.Ids.IsValid(e.WindowId) || e.AccountId.Length is 0 or > 64 || e.Reason.Length is 0 or > 64)
            {
                RewardsLog.CreditRefused(log, e.WindowId, e.Points);
                return Results.Ok(); // never a credit the lifecycle makes; retrying would not change that
            }

            if (await ledger.CreditAsync(e, time.GetUtcNow(), ct))
            {
                RewardsLog.Credited(log, e.Points, new RedactedId(e.AccountId), e.WindowId, e.Reason);
            }

            return Results.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.RewardRequests);
        app.MapPost("/consent-events", async (ConsentChanged e, PostgresPointsLedger ledger, CancellationToken ct) =>
        {
            if (e.AccountId.Length is 0 or > 64)
            {
                return Results.Ok(); // not an account ingress makes; retrying would not change that
            }

            await ledger.RecordConsentAsync(e.AccountId, e.Purposes.Contains("rewards", StringComparer.Ordinal), e.OccurredAt, ct);
            return Results.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.ConsentEvents);
        app.MapPost("/counted-voters", async (CountedVotersChunk e, PayoutService payouts, CancellationToken ct) =>
        {
            await payouts.VotersArrivedAsync(e, ct);
            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.CountedVoters);
        return app;
    }
}
