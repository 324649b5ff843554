using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using FanVote.Rewards.Core;
using FanVote.Security;

namespace FanVote.Rewards.Tests;

/// <summary>
/// Raffles through the running rewards service: the operator's routes, fans' tickets (paid in points, capped per fan,
/// each entry key once), the draw at its time, and the draw recomputed by anyone from the published list and seed.
/// </summary>
public sealed class RaffleTests(RewardsRig rig) : IClassFixture<RewardsRig>
{
    private readonly RewardsCalls _calls = new(rig);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object RaffleBody(string id, long ticketCost, int cap, DateTimeOffset closesAt, DateTimeOffset? drawAt = null, (string Label, int Count, long Points)[]? prizes = null) => new
    {
        raffleId = id, name = "Raffle " + id, ticketCost, maxTicketsPerFan = cap, closesAt, drawAt,
        prizes = (prizes ?? [("backstage pass", 1, 0), ("points", 3, 100)]).Select(p => new { label = p.Label, count = p.Count, points = p.Points }),
    };

    private Task<HttpResponseMessage> EnterAsync(string raffle, string? token, string entryKey, int tickets = 1) =>
        _calls.FanAsync(HttpMethod.Post, $"/v1/raffles/{raffle}/entries", token, new { entryKey, tickets });

    private async Task<string> CreateAsync(long ticketCost, int cap, TimeSpan closesIn, TimeSpan? drawAfterClose = null)
    {
        var id = RewardsCalls.NewId("raffle");
        var closes = DateTimeOffset.UtcNow + closesIn;
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", RaffleBody(id, ticketCost, cap, closes, closes + (drawAfterClose ?? TimeSpan.FromHours(1)))), HttpStatusCode.Created);
        return id;
    }

    [Fact]
    public async Task OperatorRoutes_NeedTheOperatorKey_BadDefinitionsAreRefused_ThePublishedRaffleNeverChanges()
    {
        var id = RewardsCalls.NewId("raffle");
        var closes = DateTimeOffset.UtcNow.AddHours(1);
        var body = RaffleBody(id, 10, 3, closes);

        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", body, key: ""), HttpStatusCode.Unauthorized);
        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", body, key: "not-the-operator-key-at-all"), HttpStatusCode.Unauthorized);
        await _calls.ProblemOf(await _calls.FanAsync(HttpMethod.Post, "/v1/raffles", _calls.Token(RewardsCalls.NewAccount()), body), HttpStatusCode.Unauthorized);
        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, $"/v1/raffles/{id}/draw", key: ""), HttpStatusCode.Unauthorized);
        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Get, $"/v1/raffles/{id}/report", key: ""), HttpStatusCode.Unauthorized);
        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM raffles WHERE raffle_id = $1", id));

        var created = await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", body), HttpStatusCode.Created);
        Assert.Matches("^[0-9a-f]{64}$", created.GetProperty("commitment").GetString());
        Assert.Equal("open", created.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("serverSeed").ValueKind);
        var again = await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", body), HttpStatusCode.OK);
        Assert.Equal(created.GetProperty("commitment").GetString(), again.GetProperty("commitment").GetString());
        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", RaffleBody(id, 1, 3, closes)), HttpStatusCode.Conflict);

        var bad = new (object Body, string Says)[]
        {
            (RaffleBody("Bad Id", 10, 3, closes), "raffleId"),
            (RaffleBody(RewardsCalls.NewId("r"), -1, 3, closes), "ticketCost"),
            (RaffleBody(RewardsCalls.NewId("r"), 10, 0, closes), "maxTicketsPerFan"),
            (RaffleBody(RewardsCalls.NewId("r"), 10, 3, closes, prizes: [("none", 0, 5)]), "count"),
            (RaffleBody(RewardsCalls.NewId("r"), 10, 3, DateTimeOffset.UtcNow.AddHours(-1)), "closesAt"),
            (RaffleBody(RewardsCalls.NewId("r"), 10, 3, closes, drawAt: closes.AddMinutes(-1)), "drawAt"),
            (new { raffleId = RewardsCalls.NewId("r"), name = "no prizes", closesAt = closes }, "prizes"),
        };
        foreach (var (b, says) in bad)
        {
            var problem = await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", b), HttpStatusCode.BadRequest);
            Assert.Contains(says, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        await _calls.ProblemOf(await _calls.FanAsync(HttpMethod.Get, "/v1/raffles/no-such-raffle", null), HttpStatusCode.NotFound);
        await _calls.ProblemOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/raffles/{id}/entries", null), HttpStatusCode.Conflict); // still open
        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, $"/v1/raffles/{id}/draw"), HttpStatusCode.Conflict);   // still open
    }

    [Fact]
    public async Task PaidTickets_AreDebitedOnce_CappedPerFan_EvenConcurrently_AndRefusalsSpendNothing()
    {
        var raffle = await CreateAsync(ticketCost: 10, cap: 3, closesIn: TimeSpan.FromHours(1));
        var fan = RewardsCalls.NewAccount();
        await _calls.GiveAsync(fan, 100);
        var token = _calls.Token(fan);

        var two = await _calls.JsonOf(await EnterAsync(raffle, token, "entry-0000001", tickets: 2), HttpStatusCode.Created);
        var retry = await _calls.JsonOf(await EnterAsync(raffle, token, "entry-0000001", tickets: 2), HttpStatusCode.OK);
        var reused = await _calls.ProblemOf(await EnterAsync(raffle, token, "entry-0000001", tickets: 1), HttpStatusCode.Conflict);
        var overCap = await _calls.ProblemOf(await EnterAsync(raffle, token, "entry-0000002", tickets: 2), HttpStatusCode.Conflict);

        Assert.Equal((1L, 2L, 20L, 80L), (two.GetProperty("firstTicket").GetInt64(), two.GetProperty("lastTicket").GetInt64(), two.GetProperty("cost").GetInt64(), two.GetProperty("balanceAfter").GetInt64()));
        Assert.Equal(RaffleDraw.Holder(raffle, fan), two.GetProperty("holder").GetString());
        Assert.True(retry.GetProperty("repeated").GetBoolean());
        Assert.Equal(two.GetProperty("firstTicket").GetInt64(), retry.GetProperty("firstTicket").GetInt64());
        Assert.Contains("entryKey", reused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, overCap.GetProperty("held").GetInt64());
        Assert.Equal(80, await _calls.BalanceAsync(fan));

        // 40 entries of one ticket at once, one ticket left under the cap: exactly one is taken.
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var r = await EnterAsync(raffle, token, $"burst-{i:D8}");
            return r.StatusCode;
        }));
        Assert.Equal(1, answers.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(39, answers.Count(s => s == HttpStatusCode.Conflict));
        Assert.Equal(3, await rig.ScalarAsync("SELECT sum(tickets) FROM raffle_entries WHERE raffle_id = $1 AND account_id = $2", raffle, fan));
        Assert.Equal(70, await _calls.BalanceAsync(fan));

        // A fan who cannot pay, a stranger, a forged token, a fan without "rewards", a bad body: refused, nothing spent.
        var poor = RewardsCalls.NewAccount();
        await _calls.GiveAsync(poor, 5);
        var broke = await _calls.ProblemOf(await EnterAsync(raffle, _calls.Token(poor), "poor-0000001"), HttpStatusCode.Conflict);
        Assert.Equal(5, broke.GetProperty("balance").GetInt64());
        await _calls.ProblemOf(await EnterAsync(raffle, null, "anon-0000001"), HttpStatusCode.Unauthorized);
        using var otherKeys = new SessionTokens([("t1", RandomNumberGenerator.GetBytes(32))], TimeSpan.FromHours(1), TimeProvider.System);
        var forged = otherKeys.Issue(poor, "device-1", SessionKind.Guest, DateTimeOffset.UtcNow.AddDays(-30), new FanConsent(PurposeNames.NeededToVote | Purposes.Rewards, AgeBand.Unknown));
        await _calls.ProblemOf(await EnterAsync(raffle, forged, "forged-000001"), HttpStatusCode.Unauthorized);
        await _calls.ProblemOf(await EnterAsync(raffle, _calls.Token(poor, FanConsent.Voting), "noconsent-01"), HttpStatusCode.Forbidden);
        await _calls.ProblemOf(await EnterAsync(raffle, _calls.Token(poor), "short"), HttpStatusCode.BadRequest);
        await _calls.ProblemOf(await EnterAsync(raffle, _calls.Token(poor), "zero-0000001", tickets: 0), HttpStatusCode.BadRequest);
        await _calls.ProblemOf(await EnterAsync("no-such-raffle", _calls.Token(poor), "nowhere-00001"), HttpStatusCode.NotFound);
        Assert.Equal(5, await _calls.BalanceAsync(poor));
        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM raffle_entries WHERE account_id = $1", poor));
    }

    [Fact]
    public async Task Draw_AtItsTime_PaysThePointsPrizes_AndAnyoneRecomputesItFromThePublishedListAndSeed()
    {
        // Entries close in 40 s (time for the 24 calls below on a loaded machine), the draw 1 s later, by rewards itself.
        var raffle = await CreateAsync(ticketCost: 10, cap: 3, closesIn: TimeSpan.FromSeconds(40), drawAfterClose: TimeSpan.FromSeconds(1));
        var published = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/raffles/{raffle}", null), HttpStatusCode.OK);
        var fans = Enumerable.Range(0, 12).Select(_ => RewardsCalls.NewAccount()).ToList();
        foreach (var (fan, i) in fans.Select((f, i) => (f, i)))
        {
            await _calls.GiveAsync(fan, 50);
            await _calls.JsonOf(await EnterAsync(raffle, _calls.Token(fan), $"enter-{i:D8}", tickets: (i % 3) + 1), HttpStatusCode.Created);
        }

        var deadline = DateTime.UtcNow.AddSeconds(120);
        JsonElement drawn;
        while ((drawn = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/raffles/{raffle}", null), HttpStatusCode.OK)).GetProperty("state").GetString() != "drawn")
        {
            Assert.True(DateTime.UtcNow < deadline, $"raffle drawn within 120 s of its draw time; state {drawn.GetProperty("state").GetString()}");
            await Task.Delay(250, Ct);
        }

        var late = await _calls.ProblemOf(await EnterAsync(raffle, _calls.Token(fans[0]), "too-late-0001"), HttpStatusCode.Conflict);
        Assert.Contains("no more entries", late.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var seed = Convert.FromHexString(drawn.GetProperty("serverSeed").GetString()!);
        Assert.Equal(published.GetProperty("commitment").GetString(), ProvablyFair.Commitment(seed));
        var winners = drawn.GetProperty("winners").EnumerateArray().ToList();
        Assert.Equal(4, winners.Count); // 1 pass + 3 points prizes, 12 fans
        Assert.Equal(4, winners.Select(w => w.GetProperty("holder").GetString()).Distinct().Count());
        var entries = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/raffles/{raffle}/entries", null), HttpStatusCode.OK);
        Assert.Equal(fans.Select((_, i) => (long)(i % 3) + 1).Sum(), entries.GetProperty("count").GetInt64());

        // The operator's report names the winners' accounts; each points winner got 100 points, once.
        var report = await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Get, $"/v1/raffles/{raffle}/report"), HttpStatusCode.OK);
        foreach (var w in report.GetProperty("winners").EnumerateArray())
        {
            var account = w.GetProperty("accountId").GetString()!;
            var i = fans.IndexOf(account);
            Assert.True(i >= 0, $"winner {account} is one of the fans who entered");
            Assert.Equal(RaffleDraw.Holder(raffle, account), w.GetProperty("holder").GetString());
            Assert.Equal(50 - (10 * ((i % 3) + 1)) + w.GetProperty("points").GetInt64(), await _calls.BalanceAsync(account));
        }

        // Drawing again (the operator, or another instance) changes nothing.
        var again = await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, $"/v1/raffles/{raffle}/draw"), HttpStatusCode.OK);
        Assert.Equal(drawn.GetProperty("winners").GetRawText(), again.GetProperty("winners").GetRawText());
        Assert.Equal(3, await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1 AND reason = 'raffle-prize'", "raffle:" + raffle));

        var dir = Directory.CreateTempSubdirectory("fanvote-raffle-").FullName;
        try
        {
            var url = $"{rig.Rewards.BaseUrl}/v1/raffles/{raffle}";
            var (ok, okText) = await _calls.CliAsync("raffle", "verify", "--raffle", url, "--entries", url + "/entries");
            Assert.True(ok == 0, okText);
            Assert.Contains("4 winners", okText, StringComparison.Ordinal);

            // A list with a ticket left out is not the one drawn from.
            var tickets = entries.GetProperty("tickets").EnumerateArray().Select(t => new { ticket = t.GetProperty("ticket").GetInt64(), holder = t.GetProperty("holder").GetString() });
            var file = Path.Combine(dir, "entries.json");
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new { raffleId = raffle, tickets = tickets.Where(t => t.ticket != 2) }), Ct);
            var (bad, badText) = await _calls.CliAsync("raffle", "verify", "--raffle", url, "--entries", file);
            Assert.True(bad == 1, badText);
            Assert.Contains("not the one drawn from", badText, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var (intact, intactText) = await _calls.CliAsync("ledger", "verify", "--connection", rig.RewardsConnection);
        Assert.True(intact == 0, intactText);
    }
}
