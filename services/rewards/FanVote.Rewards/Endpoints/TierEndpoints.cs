using Dapr.Client;
using FanVote.Contracts;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Core;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FanVote.Rewards;

/// <summary>
/// VIP tiers: `GET /v1/tiers` (anyone: the table, what each unlocks, what is counted) and `GET /v1/me/tier` (a fan who
/// gave "rewards": their earned points, tier, badge and the next tier).
/// </summary>
public static class TierEndpoints
{
    public sealed record TierView(string Name, long MinPoints, int ExtraTickets, string? Badge);

    public sealed record TiersResponse(string Season, string Counted, IReadOnlyList<TierView> Tiers);

    public sealed record StandingResponse(string AccountId, string Season, long Earned, TierView Tier, TierView? Next, long? PointsToNext);

    public const string CountedText = "points FanVote credited you (counted votes, winner bonuses, goodwill), not prizes won back on wheels or in raffles; spending does not lower them";

    public static WebApplication MapTierEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/v1/tiers", (VipTiers tiers) => TypedResults.Ok(new TiersResponse(tiers.Season, CountedText, [.. tiers.Tiers.Select(View)])))
            .AllowAnonymous().WithTags("VIP tiers").WithSummary("The VIP tiers: thresholds, what each unlocks, what is counted");
        app.MapGet("/v1/me/tier", StandingAsync).RequireFan(Purposes.Rewards, "Your tier").WithTags("VIP tiers")
            .WithSummary("The signed-in fan's earned points, VIP tier, badge and the next tier");
        return app;
    }

    private static TierView View(VipTier t) => new(t.Name, t.MinPoints, t.ExtraTickets, t.Badge);

    private static async Task<Ok<StandingResponse>> StandingAsync(HttpContext ctx, PostgresTiers tiers, PostgresPointsLedger ledger, CancellationToken ct)
    {
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        var s = await tiers.StandingAsync(conn, null, ctx.Fan().AccountId, ct);
        return TypedResults.Ok(new StandingResponse(s.AccountId, s.Season, s.Earned, View(s.Tier), s.Next is { } n ? View(n) : null, s.Next is { } next ? next.MinPoints - s.Earned : null));
    }
}

/// <summary>Publishes the tier changes waiting in the outbox on `fan-tiers` (at least once; each with a stable event id), then marks them.</summary>
public sealed class TierPublisher(PostgresPointsLedger ledger, VipTiers tiers, DaprClient dapr, TimeProvider time, IOptions<RewardsOptions> options, ILogger<TierPublisher> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.TierPublishInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                List<(long Seq, Contracts.Events.TierChanged Event)> pending;
                while ((pending = await PostgresTiers.PendingAsync(ledger.DataSource, tiers, 500, stoppingToken)).Count > 0)
                {
                    foreach (var (_, e) in pending)
                    {
                        await dapr.PublishTypedAsync(Topics.FanTiers, EventTypes.TierChanged, e, stoppingToken);
                    }

                    await PostgresTiers.MarkPublishedAsync(ledger.DataSource, [.. pending.Select(p => p.Seq)], time.GetUtcNow(), stoppingToken);
                }
            }
            catch (Exception e) when (e is System.Data.Common.DbException or Dapr.DaprException or TimeoutException or HttpRequestException)
            {
                RewardsLog.TierPublishFailed(log, e);
            }
        }
    }
}
