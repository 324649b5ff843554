using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Core;
using FanVote.Security;
using FanVote.Testing;

namespace FanVote.Rewards.Tests;

/// <summary>
/// Spin-to-win through the running rewards service: the operator's wheel routes, fans' spins against the points
/// ledger (debits that never take a fan below zero, each spin key spent once), and the provably fair outcomes
/// recomputed from the seed revealed at the close.
/// </summary>
public sealed class SpinTests(RewardsRig rig) : IClassFixture<RewardsRig>
{
    private readonly RewardsCalls _calls = new(rig);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewId(string prefix) => RewardsCalls.NewId(prefix);

    private static string NewAccount() => RewardsCalls.NewAccount();

    private static object WheelBody(string id, long cost, (string Label, int Weight, long Prize)[] segments, DateTimeOffset? opensAt = null, DateTimeOffset? closesAt = null) => new
    {
        wheelId = id, name = "Wheel " + id, cost, segments = segments.Select(s => new { label = s.Label, weight = s.Weight, prize = s.Prize }), opensAt, closesAt,
    };

    private Task<HttpResponseMessage> OperatorAsync(HttpMethod method, string path, object? body = null, string? key = null) => _calls.OperatorAsync(method, path, body, key);

    private string Token(string account, FanConsent? consent = null) => _calls.Token(account, consent);

    private Task<HttpResponseMessage> FanAsync(HttpMethod method, string path, string? token, object? body = null) => _calls.FanAsync(method, path, token, body);

    private Task<HttpResponseMessage> SpinAsync(string wheel, string token, string spinKey, string clientSeed = "my-own-seed") =>
        FanAsync(HttpMethod.Post, $"/v1/wheels/{wheel}/spins", token, new { spinKey, clientSeed });

    private Task<JsonElement> JsonOf(HttpResponseMessage r, HttpStatusCode expected) => _calls.JsonOf(r, expected);

    private Task<JsonElement> ProblemOf(HttpResponseMessage r, HttpStatusCode expected) => _calls.ProblemOf(r, expected);

    private Task GiveAsync(string account, long points) => _calls.GiveAsync(account, points);

    private Task<(int Exit, string Output)> CliAsync(params string[] args) => _calls.CliAsync(args);

    private async Task<string> CreateWheelAsync(long cost, (string, int, long)[] segments, DateTimeOffset? opensAt = null, DateTimeOffset? closesAt = null)
    {
        var id = NewId("wheel");
        using var created = await OperatorAsync(HttpMethod.Post, "/v1/wheels", WheelBody(id, cost, segments, opensAt, closesAt));
        await JsonOf(created, HttpStatusCode.Created);
        return id;
    }

    [Fact]
    public async Task OperatorRoutes_NeedTheOperatorKey_AFanTokenOrAWrongKeyChangesNothing()
    {
        var id = NewId("wheel");
        var body = WheelBody(id, 10, [("nothing", 1, 0), ("ten", 1, 10)]);

        using var none = await OperatorAsync(HttpMethod.Post, "/v1/wheels", body, key: "");
        using var wrong = await OperatorAsync(HttpMethod.Post, "/v1/wheels", body, key: "not-the-operator-key-at-all");
        using var asFan = await FanAsync(HttpMethod.Post, "/v1/wheels", Token(NewAccount()), body);
        using var closeNone = await OperatorAsync(HttpMethod.Post, $"/v1/wheels/{id}/close", key: "");
        using var reportNone = await OperatorAsync(HttpMethod.Get, $"/v1/wheels/{id}/report", key: "");

        foreach (var r in new[] { none, wrong, asFan, closeNone, reportNone })
        {
            await ProblemOf(r, HttpStatusCode.Unauthorized);
        }

        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM spin_wheels WHERE wheel_id = $1", id));
    }

    [Fact]
    public async Task CreateWheel_PublishesOddsExpectedPayoutAndCommitment_NotTheSeed_BadDefinitionsAreRefused()
    {
        var id = NewId("wheel");
        var segments = new[] { ("nothing", 50, 0L), ("five", 30, 5L), ("twenty", 15, 20L), ("jackpot", 5, 100L) };

        var created = await JsonOf(await OperatorAsync(HttpMethod.Post, "/v1/wheels", WheelBody(id, 10, segments)), HttpStatusCode.Created);
        var again = await JsonOf(await OperatorAsync(HttpMethod.Post, "/v1/wheels", WheelBody(id, 10, segments)), HttpStatusCode.OK);
        var other = await ProblemOf(await OperatorAsync(HttpMethod.Post, "/v1/wheels", WheelBody(id, 10, [("nothing", 1, 0), ("all", 1, 100)])), HttpStatusCode.Conflict);
        var published = await JsonOf(await FanAsync(HttpMethod.Get, $"/v1/wheels/{id}", token: null), HttpStatusCode.OK);

        Assert.Equal(9.5m, created.GetProperty("expectedPayout").GetDecimal());
        Assert.Equal(0.05m, created.GetProperty("houseEdge").GetDecimal());
        Assert.Equal("open", created.GetProperty("state").GetString());
        Assert.Equal([0.5m, 0.3m, 0.15m, 0.05m], created.GetProperty("segments").EnumerateArray().Select(s => s.GetProperty("odds").GetDecimal()));
        Assert.Matches("^[0-9a-f]{64}$", created.GetProperty("commitment").GetString());
        Assert.Equal(created.GetProperty("commitment").GetString(), again.GetProperty("commitment").GetString());
        Assert.Equal(created.GetProperty("commitment").GetString(), published.GetProperty("commitment").GetString());
        Assert.Equal(JsonValueKind.Null, published.GetProperty("serverSeed").ValueKind);
        Assert.Contains("another definition", other.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM spin_wheels WHERE commitment = $1 AND revealed_seed IS NOT NULL", created.GetProperty("commitment").GetString()!));

        // Each bad definition: 400 problem+json naming what is wrong, and no wheel.
        var bad = new (object Body, string Says)[]
        {
            (WheelBody("Bad Id!", 10, segments), "wheelId"),
            (WheelBody(NewId("w"), 0, segments), "cost"),
            (WheelBody(NewId("w"), 10, [("only", 1, 10)]), "segments"),
            (WheelBody(NewId("w"), 10, [("a", 0, 10), ("b", 1, 0)]), "weight"),
            (WheelBody(NewId("w"), 10, [("a", 1, -10), ("b", 1, 0)]), "prize"),
            (WheelBody(NewId("w"), 10, segments, DateTimeOffset.UtcNow.AddHours(1), DateTimeOffset.UtcNow), "closesAt"),
            (new { wheelId = NewId("w"), name = "no odds", cost = 10 }, "segments"),
        };
        foreach (var (body, says) in bad)
        {
            var problem = await ProblemOf(await OperatorAsync(HttpMethod.Post, "/v1/wheels", body), HttpStatusCode.BadRequest);
            Assert.Contains(says, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using var malformed = new HttpRequestMessage(HttpMethod.Post, rig.Rewards.BaseUrl + "/v1/wheels") { Content = new StringContent("{\"wheelId\": ", System.Text.Encoding.UTF8, "application/json") };
        malformed.Headers.Add("X-Operator-Key", TestKeys.OperatorKey);
        await ProblemOf(await rig.Http.SendAsync(malformed, Ct), HttpStatusCode.BadRequest);
        await ProblemOf(await FanAsync(HttpMethod.Get, "/v1/wheels/no-such-wheel", token: null), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Spin_WithoutARightfulToken_IsRefused_AndSpendsNothing()
    {
        var wheel = await CreateWheelAsync(10, [("nothing", 1, 0), ("twenty", 1, 20)]);
        var account = NewAccount();
        await GiveAsync(account, 100);
        using var otherKeys = new SessionTokens([("t1", RandomNumberGenerator.GetBytes(32))], TimeSpan.FromHours(1), TimeProvider.System);
        var forged = otherKeys.Issue(account, "device-1", SessionKind.Guest, DateTimeOffset.UtcNow.AddDays(-30), new FanConsent(PurposeNames.NeededToVote | Purposes.Rewards, AgeBand.Unknown));

        await ProblemOf(await FanAsync(HttpMethod.Post, $"/v1/wheels/{wheel}/spins", null, new { spinKey = "spin-00000001", clientSeed = "s" }), HttpStatusCode.Unauthorized);
        await ProblemOf(await SpinAsync(wheel, forged, "spin-00000002"), HttpStatusCode.Unauthorized);
        await ProblemOf(await SpinAsync(wheel, Token(account) + "x", "spin-00000003"), HttpStatusCode.Unauthorized);
        var consent = await ProblemOf(await SpinAsync(wheel, Token(account, FanConsent.Voting), "spin-00000004"), HttpStatusCode.Forbidden);
        Assert.Equal(["rewards"], consent.GetProperty("purposes").EnumerateArray().Select(p => p.GetString()));

        // Bad bodies and unknown wheels, from the rightful fan: 400/404/413 problem+json.
        var token = Token(account);
        await ProblemOf(await SpinAsync(wheel, token, "short"), HttpStatusCode.BadRequest);
        await ProblemOf(await SpinAsync(wheel, token, "spin-00000005", clientSeed: "has a space"), HttpStatusCode.BadRequest);
        await ProblemOf(await SpinAsync("no-such-wheel", token, "spin-00000006"), HttpStatusCode.NotFound);
        await ProblemOf(await FanAsync(HttpMethod.Post, $"/v1/wheels/{wheel}/spins", token, new { spinKey = "spin-00000007", clientSeed = new string('x', 8000) }), HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal(100, await rig.ScalarAsync("SELECT balance FROM account_balances WHERE account = $1", Accounts.Fan(account)));
        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM spins WHERE account_id = $1", account));
    }

    [Fact]
    public async Task ThousandConcurrentSpins_PointsForTen_ExactlyTenSpinsHappen_EachKeyOnce_NeverBelowZero()
    {
        // Prizes of 0 only, so the balance pays for exactly 10 spins whatever the outcomes.
        var wheel = await CreateWheelAsync(10, [("nothing", 1, 0), ("still nothing", 1, 0)]);
        var account = NewAccount();
        await GiveAsync(account, 100);
        var token = Token(account);

        // 500 spin keys, each sent twice at once (a fan's retry racing the first try): 1,000 requests in flight.
        var keys = Enumerable.Range(0, 500).Select(i => $"race-{i:D8}").ToList();
        var answers = await Task.WhenAll(keys.Concat(keys).Select(async k =>
        {
            using var r = await SpinAsync(wheel, token, k);
            return (Key: k, Status: r.StatusCode, Body: await r.Content.ReadAsStringAsync(Ct));
        }));

        var byStatus = answers.GroupBy(a => a.Status).ToDictionary(g => g.Key, g => g.Count());
        var seen = string.Join(", ", byStatus.Select(kv => $"{(int)kv.Key}: {kv.Value}"));
        Assert.True(byStatus.GetValueOrDefault(HttpStatusCode.Created) == 10, "10 spins made; answers " + seen);
        Assert.True(byStatus.GetValueOrDefault(HttpStatusCode.OK) == 10, "each made spin's twin answers the same spin; answers " + seen);
        Assert.True(byStatus.GetValueOrDefault(HttpStatusCode.Conflict) == 980, "the other 490 keys, both tries, refused; answers " + seen);
        var made = answers.Where(a => a.Status is HttpStatusCode.Created or HttpStatusCode.OK).GroupBy(a => a.Key).ToList();
        Assert.Equal(10, made.Count);
        Assert.All(made, g =>
        {
            Assert.Equal(2, g.Count());
            var ids = g.Select(a => JsonDocument.Parse(a.Body).RootElement.GetProperty("spinId").GetString()).Distinct().ToList();
            Assert.Single(ids);
        });
        Assert.All(answers.Where(a => a.Status == HttpStatusCode.Conflict), a => Assert.Contains("Not enough points", a.Body, StringComparison.Ordinal));

        Assert.Equal(0, await rig.ScalarAsync("SELECT balance FROM account_balances WHERE account = $1", Accounts.Fan(account)));
        Assert.Equal(10, await rig.ScalarAsync("SELECT count(*) FROM spins WHERE wheel_id = $1 AND account_id = $2", wheel, account));
        Assert.Equal(10, await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE debit_account = $1 AND reason = 'spin'", Accounts.Fan(account)));
        Assert.Equal(55, await rig.ScalarAsync("SELECT sum(nonce) FROM spins WHERE wheel_id = $1 AND account_id = $2", wheel, account)); // nonces 1..10
        Assert.Equal(100, await rig.ScalarAsync("SELECT balance FROM account_balances WHERE account = $1", Accounts.Wheel(wheel)));

        // And the database itself refuses a fan below zero, whoever writes.
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => rig.ExecAsync($"UPDATE account_balances SET balance = -1 WHERE account = '{Accounts.Fan(account)}'"));
    }

    [Fact]
    public async Task AFanHoldingLessThanTheCost_IsRefused_EvenOnAWheelThatAlwaysPaysMore()
    {
        // Were the cost and the prize weighed together, a fan could spin on credit, and only the losing spins would be
        // refused: a refusal that gives the outcome away, and a new client seed to try again.
        var wheel = await CreateWheelAsync(10, [("a hundred", 1, 100), ("two hundred", 1, 200)]);
        var account = NewAccount();
        await GiveAsync(account, 5);

        var refused = await ProblemOf(await SpinAsync(wheel, Token(account), "credit-00000001"), HttpStatusCode.Conflict);

        Assert.Equal(5, refused.GetProperty("balance").GetInt64());
        Assert.Equal(5, await rig.ScalarAsync("SELECT balance FROM account_balances WHERE account = $1", Accounts.Fan(account)));
        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM spins WHERE account_id = $1", account));
    }

    [Fact]
    public async Task Spins_AreProvablyFair_TheRevealedSeedRecomputesEveryOutcome_TheLedgerAndStatementShowEverySpend()
    {
        var wheel = await CreateWheelAsync(10, [("nothing", 5, 0), ("five", 3, 5), ("thirty", 2, 30)]);
        var account = NewAccount();
        await GiveAsync(account, 400);
        var token = Token(account);
        var published = await JsonOf(await FanAsync(HttpMethod.Get, $"/v1/wheels/{wheel}", null), HttpStatusCode.OK);

        var spins = new List<JsonElement>();
        for (var i = 0; i < 30; i++)
        {
            spins.Add(await JsonOf(await SpinAsync(wheel, token, $"fair-{i:D8}", clientSeed: $"fan-seed-{i % 4}"), HttpStatusCode.Created));
        }

        // A replay of spin 3 (same key, same seed) answers spin 3 and spends nothing; the same key with another seed is refused.
        var replay = await JsonOf(await SpinAsync(wheel, token, "fair-00000003", clientSeed: "fan-seed-3"), HttpStatusCode.OK);
        Assert.True(replay.GetProperty("repeated").GetBoolean());
        Assert.Equal(spins[3].GetProperty("spinId").GetString(), replay.GetProperty("spinId").GetString());
        Assert.Equal(spins[3].GetProperty("segment").GetInt32(), replay.GetProperty("segment").GetInt32());
        var reused = await ProblemOf(await SpinAsync(wheel, token, "fair-00000003", clientSeed: "another-seed"), HttpStatusCode.Conflict);
        Assert.Contains("spinKey", reused.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var prizes = spins.Sum(s => s.GetProperty("prize").GetInt64());
        var balance = 400 - (30 * 10) + prizes;
        Assert.Equal(balance, spins[^1].GetProperty("balanceAfter").GetInt64());
        Assert.Equal(balance, await rig.ScalarAsync("SELECT balance FROM account_balances WHERE account = $1", Accounts.Fan(account)));

        // The statement shows every spend and every prize, with the balance after each.
        var statement = await JsonOf(await FanAsync(HttpMethod.Get, "/v1/me/statement?limit=200", token), HttpStatusCode.OK);
        var lines = statement.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(30, lines.Count(l => l.GetProperty("reason").GetString() == "spin" && l.GetProperty("amount").GetInt64() == -10));
        Assert.Equal(spins.Count(s => s.GetProperty("prize").GetInt64() > 0), lines.Count(l => l.GetProperty("reason").GetString() == "spin-prize" && l.GetProperty("amount").GetInt64() > 0));
        Assert.Equal(balance, lines[0].GetProperty("balanceAfter").GetInt64());

        // Closed: no more spins; the seed is out and matches the commitment published before the first spin.
        await CloseAndExpectAsync(wheel);
        var afterClose = await ProblemOf(await SpinAsync(wheel, token, "late-00000000"), HttpStatusCode.Conflict);
        Assert.Contains("closed", afterClose.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var closed = await JsonOf(await FanAsync(HttpMethod.Get, $"/v1/wheels/{wheel}", null), HttpStatusCode.OK);
        Assert.Equal("closed", closed.GetProperty("state").GetString());
        var seed = Convert.FromHexString(closed.GetProperty("serverSeed").GetString()!);
        Assert.Equal(published.GetProperty("commitment").GetString(), ProvablyFair.Commitment(seed));

        // The fan's own list, recomputed here from the published formula, and by `./fanvote spin verify`.
        var mine = await JsonOf(await FanAsync(HttpMethod.Get, $"/v1/me/spins?wheel={wheel}&limit=1000", token), HttpStatusCode.OK);
        var listed = mine.GetProperty("spins").EnumerateArray().ToList();
        Assert.Equal(30, listed.Count);
        var definition = new SpinWheel(wheel, "x", 10, [new("nothing", 5, 0), new("five", 3, 5), new("thirty", 2, 30)]);
        Assert.All(listed, s => Assert.Equal(s.GetProperty("segment").GetInt32(),
            ProvablyFair.Spin(seed, definition, account, s.GetProperty("clientSeed").GetString()!, s.GetProperty("nonce").GetInt64())));

        var dir = Directory.CreateTempSubdirectory("fanvote-spins-").FullName;
        try
        {
            var tokenFile = Path.Combine(dir, "token");
            await File.WriteAllTextAsync(tokenFile, token, Ct);
            var (ok, okText) = await CliAsync("spin", "verify", "--wheel", $"{rig.Rewards.BaseUrl}/v1/wheels/{wheel}", "--spins", $"{rig.Rewards.BaseUrl}/v1/me/spins?wheel={wheel}&limit=1000", "--token-file", tokenFile);
            Assert.True(ok == 0, okText);
            Assert.Contains("all 30 spins", okText, StringComparison.Ordinal);

            // A server that said another outcome, or hid a spin (a nonce gap), is caught.
            var doctored = JsonSerializer.Serialize(new
            {
                spins = listed.Select((s, i) => new
                {
                    wheelId = wheel, accountId = account, nonce = s.GetProperty("nonce").GetInt64(), clientSeed = s.GetProperty("clientSeed").GetString(),
                    segment = i == 0 ? (s.GetProperty("segment").GetInt32() + 1) % 3 : s.GetProperty("segment").GetInt32(), prize = s.GetProperty("prize").GetInt64(),
                }).Where(s => s.nonce != 7),
            });
            var spinsFile = Path.Combine(dir, "spins.json");
            await File.WriteAllTextAsync(spinsFile, doctored, Ct);
            var (bad, badText) = await CliAsync("spin", "verify", "--wheel", $"{rig.Rewards.BaseUrl}/v1/wheels/{wheel}", "--spins", spinsFile);
            Assert.True(bad == 1, badText);
            Assert.Contains("the server said segment", badText, StringComparison.Ordinal);
            Assert.Contains("nonces 7-7 are missing", badText, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        // What the wheel took and paid, against its published house edge; and the ledger still verifies end to end.
        var report = await JsonOf(await OperatorAsync(HttpMethod.Get, $"/v1/wheels/{wheel}/report"), HttpStatusCode.OK);
        Assert.Equal(30, report.GetProperty("spins").GetInt64());
        Assert.Equal(300, report.GetProperty("pointsTaken").GetInt64());
        Assert.Equal(prizes, report.GetProperty("pointsPaid").GetInt64());
        var (intact, intactText) = await CliAsync("ledger", "verify", "--connection", rig.RewardsConnection);
        Assert.True(intact == 0, intactText);
    }

    [Fact]
    public async Task ScheduledWheel_RefusesSpinsUntilItOpens_AndAClosedOneAfter()
    {
        var wheel = await CreateWheelAsync(5, [("nothing", 1, 0), ("ten", 1, 10)], opensAt: DateTimeOffset.UtcNow.AddHours(1), closesAt: DateTimeOffset.UtcNow.AddHours(2));
        var account = NewAccount();
        await GiveAsync(account, 50);

        var early = await ProblemOf(await SpinAsync(wheel, Token(account), "early-00000001"), HttpStatusCode.Conflict);
        Assert.Contains("opens at", early.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await CloseAndExpectAsync(wheel);
        var late = await ProblemOf(await SpinAsync(wheel, Token(account), "late-00000001"), HttpStatusCode.Conflict);
        Assert.Contains("closed", late.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(50, await rig.ScalarAsync("SELECT balance FROM account_balances WHERE account = $1", Accounts.Fan(account)));
    }

    /// <summary>Closes the wheel as the operator and checks the answer reveals the seed.</summary>
    private async Task CloseAndExpectAsync(string wheel)
    {
        var closed = await JsonOf(await OperatorAsync(HttpMethod.Post, $"/v1/wheels/{wheel}/close"), HttpStatusCode.OK);
        Assert.Equal("closed", closed.GetProperty("state").GetString());
        Assert.Matches("^[0-9a-f]{64}$", closed.GetProperty("serverSeed").GetString());
    }
}
