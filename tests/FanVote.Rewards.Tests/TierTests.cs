using System.Net;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;

namespace FanVote.Rewards.Tests;

/// <summary>
/// VIP tiers through the running rewards service: earned points move a fan's tier in the ledger transaction that
/// credits them, the change is published on `fan-tiers`, spending and prizes do not count, and raffles unlock by tier.
/// </summary>
public sealed class TierTests(RewardsRig rig) : IClassFixture<RewardsRig>
{
    private readonly RewardsCalls _calls = new(rig);

    private async Task<System.Text.Json.JsonElement> StandingAsync(string account) =>
        await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, "/v1/me/tier", _calls.Token(account)), HttpStatusCode.OK);

    [Fact]
    public async Task EarnedPoints_MoveTheTier_TheChangeIsPublishedOnce_SpendingAndPrizesDoNotCount()
    {
        var table = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, "/v1/tiers", null), HttpStatusCode.OK);
        Assert.Equal(["fan", "silver", "gold", "platinum"], table.GetProperty("tiers").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal("lifetime", table.GetProperty("season").GetString());

        var fan = RewardsCalls.NewAccount();
        await _calls.GiveAsync(fan, 300);
        var before = await StandingAsync(fan);
        Assert.Equal(("fan", 300L, 200L), (before.GetProperty("tier").GetProperty("name").GetString(), before.GetProperty("earned").GetInt64(), before.GetProperty("pointsToNext").GetInt64()));

        await _calls.GiveAsync(fan, 300);
        var after = await StandingAsync(fan);
        Assert.Equal(("silver", 600L, "gold", 1400L), (after.GetProperty("tier").GetProperty("name").GetString(), after.GetProperty("earned").GetInt64(),
            after.GetProperty("next").GetProperty("name").GetString(), after.GetProperty("pointsToNext").GetInt64()));

        await Eventually.UntilAsync(async () => (await StreamEvents.DataAsync<TierChanged>(rig.Redis.Address, Topics.FanTiers)).Any(e => e.AccountId == fan),
            $"rewards publishes {fan}'s tier change on {Topics.FanTiers}");
        var changes = (await StreamEvents.DataAsync<TierChanged>(rig.Redis.Address, Topics.FanTiers)).Where(e => e.AccountId == fan).ToList();
        var change = Assert.Single(changes.DistinctBy(c => c.EventId));
        Assert.Equal(("fan", "silver", 600L, "silver"), (change.From, change.To, change.Earned, change.Badge));
        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM tier_changes WHERE account_id = $1 AND published_at IS NULL", fan));

        // A wheel that pays 100 for a cost of 10: the balance grows, what the fan earned does not; spending does not lower it.
        var wheel = RewardsCalls.NewId("generous");
        using (var created = await _calls.OperatorAsync(HttpMethod.Post, "/v1/wheels", new
        {
            wheelId = wheel, name = "Generous", cost = 10, segments = new[] { new { label = "a", weight = 1, prize = 100 }, new { label = "b", weight = 1, prize = 100 } },
        }))
        {
            await _calls.JsonOf(created, HttpStatusCode.Created);
        }

        for (var i = 0; i < 20; i++)
        {
            await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Post, $"/v1/wheels/{wheel}/spins", _calls.Token(fan), new { spinKey = $"gen-{i:D8}", clientSeed = "s" }), HttpStatusCode.Created);
        }

        Assert.Equal(600 + (20 * 90), await _calls.BalanceAsync(fan));
        var still = await StandingAsync(fan);
        Assert.Equal(("silver", 600L), (still.GetProperty("tier").GetProperty("name").GetString(), still.GetProperty("earned").GetInt64()));
        Assert.Single((await StreamEvents.DataAsync<TierChanged>(rig.Redis.Address, Topics.FanTiers)).Where(e => e.AccountId == fan).DistinctBy(e => e.EventId));
    }

    [Fact]
    public async Task Raffles_UnlockByTier_AVipOnlyRaffleRefusesLowerTiers_ExtraTicketsRaiseTheCap()
    {
        var closes = DateTimeOffset.UtcNow.AddHours(1);
        object Body(string id, string? minTier) => new
        {
            raffleId = id, name = "VIP " + id, ticketCost = 0, maxTicketsPerFan = 1, closesAt = closes, minTier,
            prizes = new[] { new { label = "meet the band", count = 1, points = 0 } },
        };
        var vip = RewardsCalls.NewId("vip");
        var open = RewardsCalls.NewId("open");
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", Body(vip, "gold")), HttpStatusCode.Created);
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", Body(open, null)), HttpStatusCode.Created);
        var unknownTier = await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", Body(RewardsCalls.NewId("x"), "diamond")), HttpStatusCode.BadRequest);
        Assert.Contains("minTier", unknownTier.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var silver = RewardsCalls.NewAccount();
        var gold = RewardsCalls.NewAccount();
        var plain = RewardsCalls.NewAccount();
        await _calls.GiveAsync(silver, 500);
        await _calls.GiveAsync(gold, 2_000);

        var refused = await _calls.ProblemOf(await _calls.FanAsync(HttpMethod.Post, $"/v1/raffles/{vip}/entries", _calls.Token(silver), new { entryKey = "vip-silver-01" }), HttpStatusCode.Forbidden);
        Assert.Equal(("silver", "gold"), (refused.GetProperty("tier").GetString(), refused.GetProperty("needed").GetString()));
        await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Post, $"/v1/raffles/{vip}/entries", _calls.Token(gold), new { entryKey = "vip-gold-0001" }), HttpStatusCode.Created);
        await _calls.ProblemOf(await _calls.FanAsync(HttpMethod.Post, $"/v1/raffles/{vip}/entries", _calls.Token(plain), new { entryKey = "vip-plain-001" }), HttpStatusCode.Forbidden);

        // Cap 1: a plain fan takes 1, silver 1 + 1, gold 1 + 2.
        async Task<HttpStatusCode> Take(string account, int tickets, string key)
        {
            using var r = await _calls.FanAsync(HttpMethod.Post, $"/v1/raffles/{open}/entries", _calls.Token(account), new { entryKey = key, tickets });
            return r.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Conflict, await Take(plain, 2, "plain-two-001"));
        Assert.Equal(HttpStatusCode.Created, await Take(plain, 1, "plain-one-001"));
        Assert.Equal(HttpStatusCode.Created, await Take(silver, 2, "silver-two-01"));
        Assert.Equal(HttpStatusCode.Conflict, await Take(silver, 1, "silver-one-01"));
        Assert.Equal(HttpStatusCode.Created, await Take(gold, 3, "gold-three-01"));
        Assert.Equal(6, await rig.ScalarAsync("SELECT sum(tickets) FROM raffle_entries WHERE raffle_id = $1", open));
    }
}
