using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Security;
using FanVote.Testing;
using StackExchange.Redis;

namespace FanVote.Ingress.Tests;

/// <summary>
/// Ingress's part of a fan's data requests, asked on `data-requests` as the orchestrator's workflow asks and answered on
/// `data-reports`: the export holds the account's record; the erasure removes the link from the person (contact or
/// device) to the account, every record of it, and stops its sessions (votes, refresh, consent all refused while their
/// tokens are still valid); the same contact makes a new, different account only after the hold; done twice, it changes
/// nothing more. Account ids are random; accounts made before that (derived ids) are adopted at their next sign-in.
/// </summary>
public sealed class ErasureTests(IngressRig rig) : IClassFixture<IngressRig>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Erasure_UnlinksTheContact_StopsTheSessions_AndANewAccountComesOnlyAfterTheHold()
    {
        var window = "erase-" + Guid.NewGuid().ToString("N")[..6];
        await rig.ScheduleAsync(window, DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(1));
        var email = $"erase-{Guid.NewGuid():N}@example.com";
        var year = DateTimeOffset.UtcNow.Year - 30;
        var token = await TokenAsync(await rig.PasscodeSignInAsync(email, year, TestConsent.Fan));
        var account = IngressRig.AccountOf(token);
        Assert.StartsWith("u_", account, StringComparison.Ordinal);
        Assert.NotEqual(Derived("u_", "contact\n" + email), account); // a random id: nothing about the contact in it
        Assert.Equal(account, IngressRig.AccountOf(await TokenAsync(await rig.PasscodeSignInAsync(email, year, consent: null)))); // found again
        using (var vote = await rig.VoteAsync(window, token, Guid.NewGuid().ToString()))
        {
            Assert.Equal(HttpStatusCode.Accepted, vote.StatusCode);
        }

        // The export: what ingress holds, for the fan to read.
        var export = await AskAsync(DataRequestKinds.Export, account);
        var part = export.Data!.Value;
        Assert.Equal(account, part.GetProperty("accountId").GetString());
        Assert.Equal(year, part.GetProperty("birthYear").GetInt32());
        Assert.True(part.GetProperty("linked").GetBoolean());
        Assert.Contains(part.GetProperty("consent").EnumerateArray(), c => c.GetProperty("purpose").GetString() == "rewards" && c.GetProperty("granted").GetBoolean());
        Assert.NotEmpty(part.GetProperty("consentHistory").EnumerateArray());
        Assert.DoesNotContain(email, part.GetRawText(), StringComparison.OrdinalIgnoreCase);

        var erased = await AskAsync(DataRequestKinds.Erase, account);
        Assert.NotEmpty(erased.Erased);
        Assert.NotEmpty(erased.Kept);

        await using var mux = await TestRedis.ConnectAsync(rig.Data.Address);
        var server = mux.GetServer(rig.Data.Address);
        var left = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: $"ingress:acct:{account}:*"))
        {
            left.Add(key!);
        }

        Assert.Empty(left); // created, consent, its history, the way back to the directory
        Assert.True(await mux.GetDatabase().KeyExistsAsync($"ingress:erased:{account}"));
        var entries = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: "ingress:dir:*"))
        {
            if ((string?)await mux.GetDatabase().StringGetAsync(key) == account)
            {
                entries.Add(key!);
            }
        }

        Assert.Empty(entries); // no directory entry leads to the account any more

        // Its sessions, still valid, do nothing more.
        using (var vote = await rig.VoteAsync(window, token, Guid.NewGuid().ToString()))
        {
            Assert.Equal("Account erased", (await IngressRig.ProblemAsync(vote, HttpStatusCode.Forbidden)).GetProperty("title").GetString());
        }

        foreach (var (method, path) in new[] { (HttpMethod.Post, "/v1/sessions/refresh"), (HttpMethod.Get, "/v1/me/consent"), (HttpMethod.Put, "/v1/me/consent") })
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get ? null : JsonContent.Create(new { purposes = TestConsent.Voting }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var r = await rig.Http.SendAsync(request, Ct);
            Assert.Equal("Account erased", (await IngressRig.ProblemAsync(r, HttpStatusCode.Forbidden)).GetProperty("title").GetString());
        }

        Assert.False(await mux.GetDatabase().KeyExistsAsync($"ingress:acct:{account}:consent")); // the refused PUT wrote nothing

        // Done again (a lost answer): the same, nothing more to change.
        Assert.NotEmpty((await AskAsync(DataRequestKinds.Erase, account, seq: 2)).Erased);

        // The same contact cannot make a fresh account (and a fresh quota) at once; after the hold it makes a new one.
        using (var again = await rig.PasscodeSignInAsync(email, year, TestConsent.Voting))
        {
            var problem = await IngressRig.ProblemAsync(again, HttpStatusCode.Conflict);
            Assert.Equal("Account erased", problem.GetProperty("title").GetString());
            Assert.True(again.Headers.RetryAfter?.Delta > TimeSpan.Zero, "a Retry-After says when");
        }

        string? fresh = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (fresh is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000, Ct);
            using var r = await rig.PasscodeSignInAsync(email, year, TestConsent.Voting);
            if (r.StatusCode == HttpStatusCode.OK)
            {
                fresh = IngressRig.AccountOf(await TokenAsync(r));
            }
            else
            {
                Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            }
        }

        Assert.NotNull(fresh);
        Assert.NotEqual(account, fresh);
    }

    [Fact]
    public async Task GuestErasure_HoldsTheDevice_AndAnAccountMadeBeforeTheDirectoryIsAdopted()
    {
        var device = "legacy-" + Guid.NewGuid().ToString("N")[..8];
        var legacy = Derived("g_", "guest\n" + device);
        await using var mux = await TestRedis.ConnectAsync(rig.Data.Address);
        var created = DateTimeOffset.UtcNow.AddDays(-200).ToUnixTimeSeconds();
        await mux.GetDatabase().StringSetAsync($"ingress:acct:{legacy}:created", created);

        // Made before account ids were random: the directory adopts it (its age, its points, its votes stay its own).
        var token = await rig.GuestAsync(device);
        Assert.Equal(legacy, IngressRig.AccountOf(token));
        Assert.Equal(legacy, IngressRig.AccountOf(await rig.GuestAsync(device)));

        await AskAsync(DataRequestKinds.Erase, legacy);
        Assert.False(await mux.GetDatabase().KeyExistsAsync($"ingress:acct:{legacy}:created"));
        using (var r = await rig.Http.PostAsJsonAsync("/v1/sessions/guest", new { deviceId = device, consent = TestConsent.Voting }, Ct))
        {
            Assert.Equal("Account erased", (await IngressRig.ProblemAsync(r, HttpStatusCode.Conflict)).GetProperty("title").GetString());
        }

        // After the hold the device makes a new account: random, and never the erased one again.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await Task.Delay(1000, Ct);
            using var r = await rig.Http.PostAsJsonAsync("/v1/sessions/guest", new { deviceId = device, consent = TestConsent.Voting }, Ct);
            if (r.StatusCode == HttpStatusCode.OK)
            {
                var next = IngressRig.AccountOf(await TokenAsync(r));
                Assert.NotEqual(legacy, next);
                Assert.StartsWith("g_", next, StringComparison.Ordinal);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the device still could not sign in after the hold: {(int)r.StatusCode}");
        }
    }

    [Fact]
    public async Task DataRequests_NotForIngressOrMalformed_ChangeNothing()
    {
        var token = await rig.GuestAsync("dr-" + Guid.NewGuid().ToString("N")[..8]);
        var account = IngressRig.AccountOf(token);
        await using var mux = await TestRedis.ConnectAsync(rig.Data.Address);

        // Through the sidecar, as the orchestrator: a request naming other services, a kind nobody knows, an id ingress never makes.
        DataRequested[] wrong =
        [
            Request(DataRequestKinds.Erase, account, [AppIds.Tally]),
            Request("forget-everything", account, [AppIds.Ingress]),
            Request(DataRequestKinds.Erase, account + "00", [AppIds.Ingress]),
        ];
        foreach (var e in wrong)
        {
            await rig.Orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.DataRequests, e, Ct);
        }

        // Only the orchestrator may publish data requests (pub/sub scopes): fraud's sidecar refuses the publish.
        await Assert.ThrowsAsync<Dapr.DaprException>(() => rig.Fraud.PublishEventAsync(ComponentNames.VoteBus, Topics.DataRequests,
            Request(DataRequestKinds.Erase, account, [AppIds.Ingress]), Ct));

        // A request the sidecar did not deliver: without the app token the route is the sidecar's only.
        using (var forged = await rig.Http.PostAsJsonAsync("/data-requests", Request(DataRequestKinds.Erase, account, [AppIds.Ingress]), Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        // A later, valid export is answered; then wait until ingress's consumer group has taken and acknowledged everything.
        await AskAsync(DataRequestKinds.Export, account);
        await StreamEvents.WaitConsumedAsync(rig.Bus.Address, Topics.DataRequests, AppIds.Ingress);
        Assert.False(await mux.GetDatabase().KeyExistsAsync($"ingress:erased:{account}"));
        using var vote = await rig.VoteAsync("no-such-window", token, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.NotFound, vote.StatusCode);
        using var refresh = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions/refresh");
        refresh.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var renewed = await rig.Http.SendAsync(refresh, Ct);
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        var reports = await StreamEvents.DataAsync<DataReported>(rig.Bus.Address, Topics.DataReports);
        Assert.DoesNotContain(reports, r => wrong.Any(w => w.RequestId == r.RequestId)); // none of them was answered
    }

    /// <summary>An account id as ingress derived it before ids were random: the prefix and 12 bytes of an HMAC under the account-ids key.</summary>
    private static string Derived(string prefix, string what) =>
        prefix + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(KeySet.Derive(TestKeys.AccountKey, "account-ids"), System.Text.Encoding.UTF8.GetBytes(what)).AsSpan(0, 12));

    private static DataRequested Request(string kind, string account, string[] services, long seq = 1) => new()
    {
        EventId = Guid.NewGuid(),
        OccurredAt = DateTimeOffset.UtcNow,
        RequestId = "dr-test-" + Guid.NewGuid().ToString("N")[..12],
        Kind = kind,
        AccountId = account,
        Services = services,
        Seq = seq,
    };

    /// <summary>Asks ingress as the orchestrator's workflow does and waits for its report on `data-reports`.</summary>
    private Task<DataReported> AskAsync(string kind, string account, long seq = 1) =>
        DataRequests.AskAsync(rig.Orchestrator, rig.Bus.Address, AppIds.Ingress, kind, account, seq);

    private static async Task<string> TokenAsync(HttpResponseMessage r)
    {
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"sign-in answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync(Ct)}");
        return (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString()!;
    }
}
