using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Security;
using FanVote.Testing;
using Npgsql;

namespace FanVote.Rewards.Tests;

public sealed partial class RewardsTests(RewardsRig rig) : IClassFixture<RewardsRig>
{
    private static readonly PayoutRules Rules = new() { PointsPerVote = 10, WinnerBonus = 50 };

    private static long Expected(CountedVoter v, string reason) => reason == "counted-votes" ? v.Votes.Values.Sum() * 10 : v.Votes.ContainsKey("x") ? 50 : 0;

    private static async Task Until(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting until " + what);
            await Task.Delay(100);
        }
    }

    private async Task PayAsync(string window, List<CountedVoter> voters, PayoutRequested request, int chunkSize)
    {
        await rig.RequestPayoutAsync(request);
        await Until(async () => (await rig.EventsAsync(Topics.VoterRequests, EventTypes.CountedVotersRequested, window)).Count > 0, "rewards asks for the voters");
        await rig.SendVotersAsync(window, voters, chunkSize);
        await Until(async () => (await rig.EventsAsync(Topics.WindowReports, EventTypes.RewardsPaid, window)).Count > 0, "rewards reports the payout");
    }

    [Fact]
    public async Task Payout_RequestThenVoters_EachCreditOnce_RepeatsOnlyTheSameAnswer()
    {
        var window = "p-" + Guid.NewGuid().ToString("N")[..6];
        var (voters, request) = RewardsRig.Payout(window, voters: 25, chunkSize: 10, Rules);

        await PayAsync(window, voters, request, chunkSize: 10);
        await rig.RequestPayoutAsync(request with { Seq = 2 });
        await rig.SendVotersAsync(window, voters[..10], chunkSize: 10);
        await Until(async () => (await rig.EventsAsync(Topics.WindowReports, EventTypes.RewardsPaid, window)).Count > 1, "the repeated request is answered");

        Assert.Single((await rig.EventsAsync(Topics.WindowReports, EventTypes.RewardsPaid, window)).Distinct());
        foreach (var v in voters)
        {
            foreach (var reason in new[] { "counted-votes", "winner-bonus" })
            {
                var n = await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1 AND credit_account = $2 AND reason = $3", window, "fan:" + v.AccountId, reason);
                Assert.Equal(Expected(v, reason) > 0 ? 1 : 0, n);
            }

            Assert.Equal(Expected(v, "counted-votes") + Expected(v, "winner-bonus"), await rig.ScalarAsync("SELECT balance FROM account_balances WHERE account = $1", "fan:" + v.AccountId));
        }

        Assert.Equal(0, await rig.ScalarAsync("SELECT balance FROM account_balances WHERE account = $1", "pool:" + window));
    }

    [Fact]
    public async Task Payout_VotersNotMatchingTheCertifiedDigest_PaysNothingAndAsksAgain()
    {
        var window = "p-" + Guid.NewGuid().ToString("N")[..6];
        var (voters, request) = RewardsRig.Payout(window, voters: 6, chunkSize: 10, Rules);
        voters[2] = voters[2] with { Votes = new Dictionary<string, long> { ["x"] = 40 } };

        await rig.RequestPayoutAsync(request);
        await Until(async () => (await rig.EventsAsync(Topics.VoterRequests, EventTypes.CountedVotersRequested, window)).Count > 0, "rewards asks for the voters");
        await rig.SendVotersAsync(window, voters, chunkSize: 10);
        await Until(async () => (await rig.EventsAsync(Topics.VoterRequests, EventTypes.CountedVotersRequested, window)).Count > 1, "rewards asks again");

        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1", window));
        Assert.Empty(await rig.EventsAsync(Topics.WindowReports, EventTypes.RewardsPaid, window));
    }

    [Fact]
    public async Task Credit_SameRewardRequestedTwice_CreditsOnce()
    {
        var window = "c-" + Guid.NewGuid().ToString("N")[..6];
        var reward = new RewardRequested { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, AccountId = "goodwill-fan", Reason = "apology", Points = 25 };

        await rig.Orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.RewardRequests, reward, TestContext.Current.CancellationToken);
        await rig.Orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.RewardRequests, reward with { EventId = Guid.NewGuid() }, TestContext.Current.CancellationToken);
        await Until(async () => await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1", window) > 0, "the credit is booked");
        await Task.Delay(1000, TestContext.Current.CancellationToken);

        Assert.Equal(1, await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1", window));
        Assert.Equal(25, await rig.ScalarAsync("SELECT amount FROM ledger_entries WHERE window_id = $1 AND debit_account = 'issuance'", window));
    }

    [Fact]
    public async Task Payout_CreditsOnlyFansWhoHaveRewardsGiven_TheLatestChangeWinning()
    {
        var window = "c-" + Guid.NewGuid().ToString("N")[..6];
        var (voters, request) = RewardsRig.Payout(window, voters: 6, chunkSize: 10, Rules);
        var now = DateTimeOffset.UtcNow;
        var never = voters[0].AccountId;
        var withdrew = voters[1].AccountId;
        var lateOld = voters[2].AccountId;

        // voters[1] gave rewards, then withdrew it; voters[2] withdrew, and an older "given" arrives after that.
        await rig.ConsentAsync(withdrew, rewards: true, now.AddMinutes(-10));
        await rig.ConsentAsync(withdrew, rewards: false, now.AddMinutes(-5));
        await rig.ConsentAsync(lateOld, rewards: false, now.AddMinutes(-5));
        await rig.ConsentAsync(lateOld, rewards: true, now.AddMinutes(-10));
        await Until(async () => await rig.ScalarAsync("SELECT count(*) FROM reward_consent WHERE account_id = ANY($1)", [new[] { withdrew, lateOld }]) == 2, "rewards records both");
        await Until(async () => await rig.ScalarAsync("SELECT count(*) FROM reward_consent WHERE NOT granted AND account_id = ANY($1)", [new[] { withdrew, lateOld }]) == 2, "the withdrawals stand");

        await rig.RequestPayoutAsync(request);
        await Until(async () => (await rig.EventsAsync(Topics.VoterRequests, EventTypes.CountedVotersRequested, window)).Count > 0, "rewards asks for the voters");
        await rig.SendVotersAsync(window, voters, chunkSize: 10, withoutConsent: [never, withdrew, lateOld]);

        // voters[0]'s consent never arrives: the payout waits for it (RewardsRig.ConsentWait), then leaves them out.
        await Until(async () => (await rig.EventsAsync(Topics.WindowReports, EventTypes.RewardsPaid, window)).Count > 0,
            "rewards reports the payout once the wait for voters[0]'s consent is over", RewardsRig.ConsentWait + TimeSpan.FromSeconds(120));
        Assert.Contains("waits for the consent of 1 counted voters", rig.Rewards.App.Output, StringComparison.Ordinal);

        foreach (var v in voters)
        {
            var credited = await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1 AND credit_account = $2", window, "fan:" + v.AccountId);
            var gave = !new[] { never, withdrew, lateOld }.Contains(v.AccountId);
            Assert.True((credited > 0) == gave, $"{v.AccountId} ({(gave ? "gave rewards" : "did not")}): {credited} credits");
        }

        Assert.Equal(3, await rig.ScalarAsync("SELECT (paid::json->>'withoutConsent')::bigint FROM payouts WHERE window_id = $1", window));
        var points = voters.Skip(3).Sum(v => Expected(v, "counted-votes") + Expected(v, "winner-bonus"));
        Assert.Equal(points, await rig.ScalarAsync("SELECT amount FROM ledger_entries WHERE window_id = $1 AND debit_account = 'issuance'", window));
    }

    /// <summary>
    /// A fan's erasure (asked on `data-requests` as the orchestrator's workflow asks): their consent row becomes "no
    /// rewards" for good, so a consent event still on its way cannot bring it back, and a payout leaves them out at once
    /// instead of waiting for a record that will never come; their ledger lines stay. The export shows what rewards holds.
    /// </summary>
    [Fact]
    public async Task Erasure_LeavesTheFanOutOfLaterPayoutsAtOnce_AndNoLateConsentUndoesIt()
    {
        var window = "e-" + Guid.NewGuid().ToString("N")[..6];
        string NewAccount() => "g_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var (erased, kept) = (NewAccount(), NewAccount());
        List<CountedVoter> voters = [.. new CountedVoter[] { new() { AccountId = erased, Votes = new Dictionary<string, long> { ["x"] = 2 } }, new() { AccountId = kept, Votes = new Dictionary<string, long> { ["y"] = 1 } } }
            .OrderBy(v => v.AccountId, StringComparer.Ordinal)]; // as tally sends them (the digest's order)
        var request = new PayoutRequested
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, Seq = 1, Rules = Rules, Winners = ["x"], Voters = 2, VoterChunks = 1,
            VotersDigest = Digest(voters),
        };
        await rig.ConsentAsync(erased, rewards: true, DateTimeOffset.UtcNow.AddMinutes(-10));
        await Until(async () => await rig.ScalarAsync("SELECT count(*) FROM reward_consent WHERE granted AND account_id = $1", erased) == 1, "the fan's consent is recorded");

        var export = await AskAsync(DataRequestKinds.Export, erased);
        Assert.True(export.Data!.Value.GetProperty("rewardsConsent").GetProperty("granted").GetBoolean());
        Assert.Equal(0, export.Data!.Value.GetProperty("balance").GetInt64());

        var done = await AskAsync(DataRequestKinds.Erase, erased);
        Assert.NotEmpty(done.Erased);
        Assert.NotEmpty(done.Kept);
        await rig.ConsentAsync(erased, rewards: true, DateTimeOffset.UtcNow); // given just before the erasure, delivered after it
        await StreamEvents.WaitConsumedAsync(rig.Redis.Address, Topics.ConsentEvents, AppIds.Rewards);
        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM reward_consent WHERE granted AND account_id = $1", erased));

        await rig.RequestPayoutAsync(request);
        await Until(async () => (await rig.EventsAsync(Topics.VoterRequests, EventTypes.CountedVotersRequested, window)).Count > 0, "rewards asks for the voters");
        await rig.SendVotersAsync(window, voters, chunkSize: 10, withoutConsent: [erased]);
        await Until(async () => (await rig.EventsAsync(Topics.WindowReports, EventTypes.RewardsPaid, window)).Count > 0, "the payout is made");
        Assert.DoesNotContain($"payout of window {window} waits for the consent", rig.Rewards.App.Output, StringComparison.Ordinal);
        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1 AND credit_account = $2", window, "fan:" + erased));
        Assert.True(await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1 AND credit_account = $2", window, "fan:" + kept) > 0);
        Assert.Equal(1, await rig.ScalarAsync("SELECT (paid::json->>'withoutConsent')::bigint FROM payouts WHERE window_id = $1", window));
    }

    /// <summary>Asks rewards on `data-requests` as the orchestrator does and waits for its answer on `data-reports`.</summary>
    private Task<DataReported> AskAsync(string kind, string account) =>
        DataRequests.AskAsync(rig.Orchestrator, rig.Redis.Address, AppIds.Rewards, kind, account);

    [Fact]
    public async Task ConsentEvents_OnlyIngressMayPublishThem_AnotherAppIsRefused_AndNothingIsRecorded()
    {
        var account = "forged-" + Guid.NewGuid().ToString("N")[..8];
        var forged = new ConsentChanged
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, AccountId = account, AgeBand = "adult",
            Purposes = ["counting", "fraud-prevention", "rewards"],
        };

        // Tally's sidecar (rig.Client) and the orchestrator's: pub/sub scopes give consent-events to ingress only.
        foreach (var other in new[] { rig.Client, rig.Orchestrator })
        {
            await Assert.ThrowsAsync<Dapr.DaprException>(() => other.PublishEventAsync(ComponentNames.VoteBus, Topics.ConsentEvents, forged,
                new Dictionary<string, string> { [EventTypes.MetadataKey] = EventTypes.ConsentChanged }, TestContext.Current.CancellationToken));
        }

        // Ingress's goes through (and shows the route works), the refused ones left nothing.
        var real = "real-" + Guid.NewGuid().ToString("N")[..8];
        await rig.ConsentAsync(real, rewards: true, DateTimeOffset.UtcNow);
        await Until(async () => await rig.ScalarAsync("SELECT count(*) FROM reward_consent WHERE account_id = $1", real) == 1, "ingress's consent is recorded");
        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM reward_consent WHERE account_id = $1", account));
    }

    [Fact]
    public async Task Payout_WaitsForAConsentStillOnItsWay_ThenCreditsIt()
    {
        var window = "w-" + Guid.NewGuid().ToString("N")[..6];
        var (voters, request) = RewardsRig.Payout(window, voters: 4, chunkSize: 10, Rules);
        var late = voters[3].AccountId; // signed in while rewards was down: their ConsentChanged arrives after the voters

        await rig.RequestPayoutAsync(request);
        await Until(async () => (await rig.EventsAsync(Topics.VoterRequests, EventTypes.CountedVotersRequested, window)).Count > 0, "rewards asks for the voters");
        await rig.SendVotersAsync(window, voters, chunkSize: 10, withoutConsent: [late]);
        await Until(() => Task.FromResult(rig.Rewards.App.Output.Contains($"payout of window {window} waits for the consent of 1 counted voters", StringComparison.Ordinal)), "the payout waits for the missing record");
        Assert.Empty(await rig.EventsAsync(Topics.WindowReports, EventTypes.RewardsPaid, window));

        await rig.ConsentAsync(late, rewards: true, DateTimeOffset.UtcNow);
        await Until(async () => (await rig.EventsAsync(Topics.WindowReports, EventTypes.RewardsPaid, window)).Count > 0, "the record's arrival lets the payout go on");
        foreach (var v in voters)
        {
            Assert.True(await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1 AND credit_account = $2", window, "fan:" + v.AccountId) > 0, $"{v.AccountId} is credited");
        }

        Assert.Equal(0, await rig.ScalarAsync("SELECT (paid::json->>'withoutConsent')::bigint FROM payouts WHERE window_id = $1", window));
    }

    [Fact]
    public async Task BalanceAndStatement_SignedInFan_SeesOwnPointsNewestFirst_WithoutTokenIs401()
    {
        var first = "s1-" + Guid.NewGuid().ToString("N")[..6];
        var second = "s2-" + Guid.NewGuid().ToString("N")[..6];
        var (voters1, request1) = RewardsRig.Payout(first, voters: 3, chunkSize: 10, Rules);
        var (_, request2) = RewardsRig.Payout(second, voters: 1, chunkSize: 10, Rules);
        var fan = voters1[0].AccountId; // votes for x: counted votes and the winner bonus
        await PayAsync(first, voters1, request1, chunkSize: 10);
        var again = new List<CountedVoter> { new() { AccountId = fan, Votes = new Dictionary<string, long> { ["y"] = 2 } } };
        await PayAsync(second, again, request2 with { VotersDigest = Digest(again) }, chunkSize: 10);

        using var balance = await GetAsync("/v1/me/balance", fan);
        using var statement = await GetAsync("/v1/me/statement?limit=2", fan);
        using var anonymous = await rig.Http.GetAsync(new Uri(rig.Rewards.BaseUrl + "/v1/me/balance"), TestContext.Current.CancellationToken);

        var expected = Expected(voters1[0], "counted-votes") + 50 + 20;
        Assert.Equal(expected, (await Json(balance)).GetProperty("balance").GetInt64());
        var s = await Json(statement);
        var lines = s.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal([second, first], lines.Select(l => l.GetProperty("windowId").GetString()));
        Assert.Equal(expected, lines[0].GetProperty("balanceAfter").GetInt64());
        Assert.Equal(expected - 20, lines[1].GetProperty("balanceAfter").GetInt64());
        Assert.Equal("pool:" + second, lines[0].GetProperty("counterparty").GetString());
        Assert.Equal(lines[1].GetProperty("seq").GetInt64(), s.GetProperty("nextBefore").GetInt64());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);

        // A fan who has not given "rewards" (voting needs only counting and fraud prevention) is not shown points.
        foreach (var path in new[] { "/v1/me/balance", "/v1/me/statement" })
        {
            using var noConsent = await GetAsync(path, fan, FanConsent.Voting);
            Assert.Equal(HttpStatusCode.Forbidden, noConsent.StatusCode);
            Assert.Equal("application/problem+json", noConsent.Content.Headers.ContentType?.MediaType);
            var problem = (await JsonDocument.ParseAsync(await noConsent.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken), cancellationToken: TestContext.Current.CancellationToken)).RootElement;
            Assert.Equal(["rewards"], problem.GetProperty("purposes").EnumerateArray().Select(p => p.GetString()));
        }
    }

    [Fact]
    public async Task LedgerVerify_ChangedRemovedOrReorderedRow_FailsAndNamesIt_UntouchedPasses()
    {
        var window = "t-" + Guid.NewGuid().ToString("N")[..6];
        var (voters, request) = RewardsRig.Payout(window, voters: 6, chunkSize: 10, Rules);
        await PayAsync(window, voters, request, chunkSize: 10);
        var k = await rig.ScalarAsync("SELECT min(seq) + 2 FROM ledger_entries WHERE window_id = $1", window);

        var (intact, intactText) = await VerifyAsync();
        Assert.True(intact == 0, intactText);
        await Assert.ThrowsAsync<PostgresException>(() => rig.ExecAsync($"UPDATE ledger_entries SET amount = amount + 1 WHERE seq = {k}"));

        // Whoever can bypass the append-only trigger (a database owner) is still caught by the chain.
        await rig.ExecAsync("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only");
        try
        {
            await rig.ExecAsync($"UPDATE ledger_entries SET amount = amount + 1 WHERE seq = {k}");
            var (changed, changedText) = await VerifyAsync();
            await rig.ExecAsync($"UPDATE ledger_entries SET amount = amount - 1 WHERE seq = {k}");

            await rig.ExecAsync($"CREATE TABLE saved_row AS SELECT * FROM ledger_entries WHERE seq = {k}; DELETE FROM ledger_entries WHERE seq = {k}");
            var (removed, removedText) = await VerifyAsync();
            await rig.ExecAsync("INSERT INTO ledger_entries SELECT * FROM saved_row; DROP TABLE saved_row");

            await rig.ExecAsync($"UPDATE ledger_entries SET seq = -1 WHERE seq = {k}; UPDATE ledger_entries SET seq = {k} WHERE seq = {k + 1}; UPDATE ledger_entries SET seq = {k + 1} WHERE seq = -1");
            var (reordered, reorderedText) = await VerifyAsync();
            await rig.ExecAsync($"UPDATE ledger_entries SET seq = -1 WHERE seq = {k}; UPDATE ledger_entries SET seq = {k} WHERE seq = {k + 1}; UPDATE ledger_entries SET seq = {k + 1} WHERE seq = -1");

            Assert.True(changed == 1, changedText);
            Assert.Contains($"changed: row {k} ", changedText, StringComparison.Ordinal);
            Assert.True(removed == 1, removedText);
            Assert.Contains($"removed: row {k} was removed", removedText, StringComparison.Ordinal);
            Assert.True(reordered == 1, reorderedText);
            Assert.Contains($"reordered: row {k} ", reorderedText, StringComparison.Ordinal);
            Assert.Contains($"reordered: row {k + 1} ", reorderedText, StringComparison.Ordinal);
            Assert.DoesNotContain("changed:", reorderedText + removedText, StringComparison.Ordinal);
        }
        finally
        {
            await rig.ExecAsync("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only");
        }

        var (restored, restoredText) = await VerifyAsync();
        Assert.True(restored == 0, restoredText);
    }

    /// <summary>`./fanvote ledger verify` with the ledger key and, by default, the rig's anchor file.</summary>
    private async Task<(int Exit, string Output)> VerifyAsync(params string[] extra)
    {
        await using var cli = ManagedProcess.Dotnet("cli", TestEnvironment.ProjectDll("FanVote.Cli"),
            ["ledger", "verify", "--connection", rig.RewardsConnection, .. extra],
            new Dictionary<string, string?> { ["FANVOTE_LEDGER_KEY"] = Convert.ToBase64String(TestKeys.LedgerKey), ["FANVOTE_LEDGER_ANCHORS"] = rig.AnchorFile }).Start();
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(100); // let the output readers drain
        return (exit, cli.Output);
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string accountId, FanConsent? consent = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, rig.Rewards.BaseUrl + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer",
            rig.Tokens.Issue(accountId, "device-1", SessionKind.Guest, DateTimeOffset.UtcNow.AddDays(-1), consent ?? new FanConsent(PurposeNames.NeededToVote | Purposes.Rewards, AgeBand.Unknown)));
        return await rig.Http.SendAsync(request);
    }

    private static async Task<JsonElement> Json(HttpResponseMessage r)
    {
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        return (await JsonDocument.ParseAsync(await r.Content.ReadAsStreamAsync())).RootElement;
    }

    private static string Digest(List<CountedVoter> voters) => FanVote.Certification.VotersDigest.Of(voters);
}
