using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Core;
using FanVote.Security;
using FanVote.Testing;
using Npgsql;

namespace FanVote.EndToEnd.Tests;

/// <summary>The whole system with the fraud service and short data-rights waits, for the fans' data requests.</summary>
public sealed class DataRightsRig : IAsyncLifetime
{
    public PipelineRig Pipeline { get; } = new(lifecycle: true, withFraud: true)
    {
        ServiceEnv = new Dictionary<string, string?>
        {
            ["Orchestrator__DataRights__Settle"] = "00:00:01",
            ["Orchestrator__DataRights__PollInitial"] = "00:00:00.300",
            ["Orchestrator__DataRights__PollMax"] = "00:00:02",
            ["Orchestrator__DataRights__FailureBackoffMax"] = "00:00:02",
        },
    };

    public ValueTask InitializeAsync() => Pipeline.InitializeAsync();

    public ValueTask DisposeAsync() => Pipeline.DisposeAsync();
}

/// <summary>
/// A fan's rights, through the running system: the export gathers every service's part; the erasure (a Dapr workflow)
/// survives the orchestrator SIGKILLed and tally down in the middle of it, and when it is done the fan's votes keep no
/// device or address, nothing links the account to the fan, its sessions do nothing, and the certified result, the
/// fan's receipts, the counts and the points ledger are exactly as before and still verify. The routes refuse callers
/// without the fan's session.
/// </summary>
public sealed class DataRightsTests(DataRightsRig fixture, ITestOutputHelper output) : IClassFixture<DataRightsRig>
{
    private static readonly string[] Candidates = ["aurora", "blaze", "comet"];
    private PipelineRig Rig => fixture.Pipeline;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Erasure_SurvivesKillsMidway_AndLeavesCountsReceiptsAndLedgerVerifiable()
    {
        var window = "dr-" + Guid.NewGuid().ToString("N")[..8];
        var later = window + "-later";
        var fans = new Fans(Rig.IngressHttp, window, Candidates, accounts: 6, votesPerAccount: 3);
        var tokens = await fans.SignInAsync();
        var token = tokens[0];
        var account = Eventually.AccountOf(token);
        var device = $"{window}-device-0";
        // Open long enough for 18 votes (with retries and replays) on a loaded 2-core machine; ingress closes by its own clock.
        var opensAt = DateTimeOffset.UtcNow.AddSeconds(3);
        await Rig.CreateWindowAsync(window, Candidates, 3, opensAt, opensAt.AddSeconds(45));
        await Rig.CreateWindowAsync(later, Candidates, 3); // open for half an hour: the erased account tries it
        await Eventually.UntilAsync(async () => (await VoteAsync(window, token, body: "{}")).StatusCode != HttpStatusCode.NotFound, "ingress knows the window"); // not a vote: no quota taken
        await Task.Delay(Max(opensAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200)), Ct);
        await fans.VoteAsync(tokens, concurrency: 6);
        Assert.Equal(18, fans.Accepted.Count);
        await Eventually.UntilAsync(async () => await PhaseAsync(window) == "Completed", $"window {window} completed", seconds: 180);

        var certifiedBefore = await OperatorTextAsync($"/v1/windows/{window}/certified");
        var certified = JsonSerializer.Deserialize<CertifiedResult>(certifiedBefore, FanVoteJson.Options)!;
        var countsBefore = await Rig.LedgerCountsAsync(window);
        var mine = await VotesOfAsync(account);
        Assert.Equal(3, mine.Count);
        Assert.All(mine, v => Assert.Equal(device, v.Device));
        var balance = await BalanceAsync(account);
        Assert.True(balance > 0, "the fan was paid for the window");

        // The export: every service's part, under the fan's own session.
        var export = await ExportAsync(token);
        var services = export.GetProperty("services");
        Assert.Equal(Topics.DataHolders.Order(StringComparer.Ordinal), services.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(account, services.GetProperty("ingress").GetProperty("accountId").GetString());
        var exported = services.GetProperty("tally").GetProperty("votes").EnumerateArray().ToList();
        Assert.Equal(mine.Select(v => v.Id).Order(), exported.Select(v => v.GetProperty("voteId").GetGuid()).Order());
        Assert.All(exported, v => Assert.Equal(device, v.GetProperty("deviceId").GetString()));
        Assert.Equal(balance, services.GetProperty("rewards").GetProperty("balance").GetInt64());
        Assert.NotEmpty(services.GetProperty("rewards").GetProperty("statement").EnumerateArray()); // the window's payout
        Assert.True(services.GetProperty("results").TryGetProperty("note", out _));

        // The erasure, with tally down: ingress's part is done, then the workflow waits for tally, asking again.
        await Rig.Tally.App.KillAsync();
        using var started = await FanAsync(HttpMethod.Delete, "/v1/me", token);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var requestId = (await started.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("requestId").GetString()!;
        Assert.Equal($"/v1/erasures/{requestId}", started.Headers.Location?.OriginalString);
        await Eventually.UntilAsync(async () => Service(await ErasureAsync(requestId), AppIds.Tally) is { } t && t.GetProperty("state").GetString() == "asked" && t.GetProperty("asked").GetInt32() >= 2,
            "the erasure asked tally (down) at least twice", seconds: 90);
        Assert.Equal("done", Service(await ErasureAsync(requestId), AppIds.Ingress)!.Value.GetProperty("state").GetString());

        // Its sessions already do nothing: a vote in a window still open is refused.
        using (var refused = await VoteAsync(later, token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("erased", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        // The orchestrator dies mid-way (SIGKILL, app and sidecar); both come back, tally too: the erasure goes on from where it was.
        await Rig.Orchestrator.KillAsync();
        await Rig.Orchestrator.StartAsync();
        Rig.Tally.App.Start();
        await Rig.Tally.WaitReadyAsync(TimeSpan.FromSeconds(90));
        JsonElement done = default;
        await Eventually.UntilAsync(async () => (done = await ErasureAsync(requestId)).GetProperty("state").GetString() == "done", "the erasure done after the kills", seconds: 120);
        output.WriteLine(done.GetRawText());
        Assert.All(done.GetProperty("services").EnumerateArray(), s => Assert.Equal("done", s.GetProperty("state").GetString()));
        Assert.NotEmpty(Service(done, AppIds.Tally)!.Value.GetProperty("erased").EnumerateArray());
        Assert.DoesNotContain(account, done.GetRawText(), StringComparison.Ordinal);

        // Tally: the same votes, without device or address.
        var after = await VotesOfAsync(account);
        Assert.Equal(mine.Select(v => (v.Id, v.Candidate)).Order(), after.Select(v => (v.Id, v.Candidate)).Order());
        Assert.All(after, v =>
        {
            Assert.StartsWith("dev~", v.Device, StringComparison.Ordinal);
            Assert.Contains("/", v.Ip, StringComparison.Ordinal);
            Assert.True(v.Minimized);
        });
        Assert.Equal(countsBefore, await Rig.LedgerCountsAsync(window));

        // The certified result, the fan's receipts and the points ledger: unchanged and verifiable.
        Assert.Equal(certifiedBefore, await OperatorTextAsync($"/v1/windows/{window}/certified"));
        Assert.True(CertifiedDigest.Matches(certified));
        foreach (var v in after)
        {
            using var r = await Rig.Http.GetAsync(new Uri($"{Rig.Results.BaseUrl}/v1/windows/{window}/receipts/{v.Id}"), Ct);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var proof = (await r.Content.ReadFromJsonAsync<InclusionProof>(FanVoteJson.Options, Ct))!;
            var verdict = ReceiptVerifier.Verify(proof, certified.MerkleRoot, certified.LeafCount, v.Id, v.Candidate);
            Assert.True(verdict.Valid, verdict.Reason);
        }

        Assert.Equal(balance, await BalanceAsync(account));
        await using (var db = NpgsqlDataSource.Create(Rig.Db.ConnectionString))
        {
            var report = LedgerVerifier.Verify(new LedgerKey(TestKeys.LedgerKey), await PipelineRig.LedgerRowsAsync(db), await PipelineRig.StoredBalancesAsync(db));
            Assert.True(report.Intact, string.Join("\n", report.Findings.Select(f => f.Message)));
            await using var consent = db.CreateCommand("SELECT granted FROM reward_consent WHERE account_id = $1");
            consent.Parameters.AddWithValue(account);
            Assert.False((bool)(await consent.ExecuteScalarAsync(Ct))!);
        }

        // Ingress: nothing of the account, and the device cannot make a new one at once.
        await using (var mux = await TestRedis.ConnectAsync(Rig.Redis.Address))
        {
            var left = new List<string>();
            await foreach (var key in mux.GetServer(Rig.Redis.Address).KeysAsync(pattern: $"ingress:acct:{account}:*"))
            {
                left.Add(key!);
            }

            Assert.Empty(left);
        }

        using (var again = await Rig.IngressHttp.PostAsJsonAsync("/v1/sessions/guest", new { deviceId = device, consent = TestConsent.Fan }, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        // The action log says an erasure was done, by request id; no row names the account.
        var actions = await Rig.ActionsAsync(rows => rows.Any(a => a.GetProperty("action").GetString() == "fan.erasure" && a.GetProperty("target").GetString() == requestId));
        Assert.Contains(actions, a => a.GetProperty("action").GetString() == "fan.erasure" && a.GetProperty("target").GetString() == requestId && a.GetProperty("outcome").GetString() == "erased");
        Assert.DoesNotContain(actions, a => a.GetRawText().Contains(account, StringComparison.Ordinal));

        // Asked again: the same erasure. The fan's own view, while the token lasts; no export of an erased account.
        using (var twice = await FanAsync(HttpMethod.Delete, "/v1/me", token))
        {
            Assert.Equal(HttpStatusCode.Accepted, twice.StatusCode);
            var body = await twice.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal(requestId, body.GetProperty("requestId").GetString());
            Assert.Equal("done", body.GetProperty("state").GetString());
        }

        using (var myView = await FanAsync(HttpMethod.Get, "/v1/me/erasure", token))
        {
            Assert.Equal(HttpStatusCode.OK, myView.StatusCode);
        }

        using (var noExport = await FanAsync(HttpMethod.Get, "/v1/me/data", token))
        {
            Assert.Equal(HttpStatusCode.Conflict, noExport.StatusCode);
        }
    }

    [Fact]
    public async Task DataRoutes_RefuseCallersWithoutTheFansSession()
    {
        var tokens = await new Fans(Rig.IngressHttp, "dr-trust-" + Guid.NewGuid().ToString("N")[..6], Candidates, 1, 1).SignInAsync();
        using var otherKey = new SessionTokens([("t1", System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))], TimeSpan.FromHours(1), TimeProvider.System);
        var forged = otherKey.Issue(Eventually.AccountOf(tokens[0]), "d", SessionKind.Guest, DateTimeOffset.UtcNow, FanConsent.Voting);
        using var testKeys = new SessionTokens([("t1", TestKeys.TokenKey)], TimeSpan.FromHours(1), TimeProvider.System);
        var notAnAccount = testKeys.Issue("acct-made-up", "d", SessionKind.Guest, DateTimeOffset.UtcNow, FanConsent.Voting);
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/v1/me/data"), (HttpMethod.Delete, "/v1/me"), (HttpMethod.Get, "/v1/me/erasure") })
        {
            using (var none = await FanAsync(method, path, token: null))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            }

            using (var wrongKey = await FanAsync(method, path, forged))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
            }
        }

        using (var made = await FanAsync(HttpMethod.Delete, "/v1/me", notAnAccount))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, made.StatusCode);
            Assert.Equal("application/problem+json", made.Content.Headers.ContentType?.MediaType);
        }

        // Anyone may read an erasure by its id, but only an erasure, and an id nobody was given finds nothing.
        foreach (var id in new[] { "fan-erase-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)), "fan-export-0123", "not-an-erasure" })
        {
            using var r = await Rig.Http.GetAsync(new Uri($"{Rig.Orchestrator.BaseUrl}/v1/erasures/{id}"), Ct);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        // A window may not take a data request's id.
        using var request = new HttpRequestMessage(HttpMethod.Post, Rig.Orchestrator.BaseUrl + "/v1/windows")
        {
            Content = JsonContent.Create(new { windowId = "fan-erase-window", title = "x", candidates = Candidates, opensAt = DateTimeOffset.UtcNow.AddMinutes(1), closesAt = DateTimeOffset.UtcNow.AddMinutes(5), votesPerAccount = 1 }),
        };
        request.Headers.Add("X-Operator-Key", PipelineRig.OperatorKey);
        using var window = await Rig.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, window.StatusCode);
    }

    private sealed record StoredVote(Guid Id, string Candidate, string Device, string Ip, bool Minimized);

    private async Task<List<StoredVote>> VotesOfAsync(string account)
    {
        await using var db = NpgsqlDataSource.Create(Rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT vote_id, candidate_id, device_id, ip, minimized_at IS NOT NULL FROM votes WHERE account_id = $1");
        cmd.Parameters.AddWithValue(account);
        var votes = new List<StoredVote>();
        await using var r = await cmd.ExecuteReaderAsync(Ct);
        while (await r.ReadAsync(Ct))
        {
            votes.Add(new StoredVote(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetBoolean(4)));
        }

        return votes;
    }

    private async Task<long> BalanceAsync(string account)
    {
        await using var db = NpgsqlDataSource.Create(Rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT balance FROM account_balances WHERE account = $1");
        cmd.Parameters.AddWithValue(Accounts.Fan(account));
        return await cmd.ExecuteScalarAsync(Ct) is long b ? b : 0;
    }

    /// <summary>GET /v1/me/data until it answers 200 (202 while the services' parts are gathered).</summary>
    private async Task<JsonElement> ExportAsync(string token)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            using var r = await FanAsync(HttpMethod.Get, "/v1/me/data", token);
            var text = await r.Content.ReadAsStringAsync(Ct);
            if (r.StatusCode == HttpStatusCode.OK)
            {
                return JsonDocument.Parse(text).RootElement.Clone();
            }

            Assert.True(r.StatusCode == HttpStatusCode.Accepted && DateTime.UtcNow < deadline, $"GET /v1/me/data answered {(int)r.StatusCode}: {text}");
            await Task.Delay(500, Ct);
        }
    }

    private async Task<JsonElement> ErasureAsync(string requestId)
    {
        try
        {
            using var r = await Rig.Http.GetAsync(new Uri($"{Rig.Orchestrator.BaseUrl}/v1/erasures/{requestId}"), Ct);
            return r.IsSuccessStatusCode ? (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)) : JsonDocument.Parse("""{"state":"unreadable","services":[]}""").RootElement;
        }
        catch (HttpRequestException)
        {
            return JsonDocument.Parse("""{"state":"orchestrator down","services":[]}""").RootElement; // restarting
        }
    }

    private static JsonElement? Service(JsonElement status, string service) =>
        status.GetProperty("services").EnumerateArray().Where(s => s.GetProperty("service").GetString() == service).Select(s => (JsonElement?)s).FirstOrDefault();

    private async Task<string?> PhaseAsync(string window)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Rig.Orchestrator.BaseUrl}/v1/windows/{window}");
        request.Headers.Add("X-Operator-Key", PipelineRig.OperatorKey);
        using var r = await Rig.Http.SendAsync(request, Ct);
        return r.IsSuccessStatusCode ? (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("phase").GetString() : null;
    }

    private async Task<string> OperatorTextAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Rig.Orchestrator.BaseUrl + path);
        request.Headers.Add("X-Operator-Key", PipelineRig.OperatorKey);
        using var r = await Rig.Http.SendAsync(request, Ct);
        var text = await r.Content.ReadAsStringAsync(Ct);
        Assert.True(r.IsSuccessStatusCode, $"{path} answered {(int)r.StatusCode}: {text}");
        return text;
    }

    private async Task<HttpResponseMessage> FanAsync(HttpMethod method, string path, string? token)
    {
        using var request = new HttpRequestMessage(method, Rig.Orchestrator.BaseUrl + path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await Rig.Http.SendAsync(request, Ct);
    }

    private async Task<HttpResponseMessage> VoteAsync(string window, string token, string? body = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes")
        {
            Content = body is null ? JsonContent.Create(new { candidateId = Candidates[0] }) : new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return await Rig.IngressHttp.SendAsync(request, Ct);
    }

    private static TimeSpan Max(TimeSpan t) => t > TimeSpan.Zero ? t : TimeSpan.Zero;
}
