using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using FanVote.Security;
using FanVote.Testing;

namespace FanVote.Ingress.Tests;

/// <summary>
/// Consent and age through the running ingress: voting refuses a fan who has not given its purposes (403 naming
/// them), choices need the current version of their terms, a withdrawal reaches the token, a child gets no marketing
/// and rewards only after a guardian's passcode, operators see rates, and every refusal changes nothing.
/// </summary>
public sealed class ConsentTests(IngressRig rig) : IClassFixture<IngressRig>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Voting_NeedsCountingAndFraudPrevention_GivenAtSignInOrLater()
    {
        var window = "consent-" + Guid.NewGuid().ToString("N")[..6];
        await rig.ScheduleAsync(window, DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(1));
        var bare = await GuestAsync("c-bare-" + window, consent: null);

        var key = Guid.NewGuid().ToString();
        using (var refused = await rig.VoteAsync(window, bare, key))
        {
            var problem = await IngressRig.ProblemAsync(refused, HttpStatusCode.Forbidden);
            Assert.Contains("counting, fraud-prevention", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(["counting", "fraud-prevention"], problem.GetProperty("purposes").EnumerateArray().Select(p => p.GetString()));
        }

        // Only one of the two: still refused, naming the other.
        var (half, _) = await PutAsync(bare, TestConsent.Choices((Purposes.Counting, true)));
        using (var stillRefused = await rig.VoteAsync(window, half, key))
        {
            Assert.Equal(["fraud-prevention"], (await IngressRig.ProblemAsync(stillRefused, HttpStatusCode.Forbidden)).GetProperty("purposes").EnumerateArray().Select(p => p.GetString()));
        }

        var (both, mine) = await PutAsync(half, TestConsent.Choices((Purposes.FraudPrevention, true)));
        Assert.All(mine.GetProperty("purposes").EnumerateArray(), p => Assert.True(p.GetProperty("inEffect").GetBoolean()));

        // Each change is passed on with the whole standing (rewards credits points by it).
        var account = IngressRig.AccountOf(both);
        var told = await StreamEvents.DataAsync<FanVote.Contracts.Events.ConsentChanged>(rig.Bus.Address, FanVote.Contracts.Topics.ConsentEvents, FanVote.Contracts.EventTypes.ConsentChanged);
        Assert.Equal([["counting"], ["counting", "fraud-prevention"]], told.Where(e => e.AccountId == account).OrderBy(e => e.OccurredAt).Select(e => e.Purposes.ToArray()));
        Assert.All(told.Where(e => e.AccountId == account), e => Assert.Equal("unknown", e.AgeBand));

        // The refused attempts stored nothing: the same Idempotency-Key is a first vote now, not a replay of a refusal.
        using var accepted = await rig.VoteAsync(window, both, key);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        // Given at sign-in: the sign-in's token votes at once; a later sign-in of the account keeps it without repeating it.
        var device = "c-signin-" + window;
        using (var atSignIn = await rig.VoteAsync(window, await GuestAsync(device, TestConsent.Voting), Guid.NewGuid().ToString()))
        {
            Assert.Equal(HttpStatusCode.Accepted, atSignIn.StatusCode);
        }

        using var again = await rig.VoteAsync(window, await GuestAsync(device, consent: null), Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
    }

    [Fact]
    public async Task Withdrawing_ReachesTheAnsweredToken_AndOtherSessionsAtTheirRefresh()
    {
        var window = "consent-" + Guid.NewGuid().ToString("N")[..6];
        await rig.ScheduleAsync(window, DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(1));
        var device = "c-withdraw-" + window;
        var phone = await GuestAsync(device, TestConsent.Voting);
        var tablet = await GuestAsync(device, consent: null);

        var (withdrawn, mine) = await PutAsync(phone, TestConsent.Choices((Purposes.Counting, false)));
        using (var refused = await rig.VoteAsync(window, withdrawn, Guid.NewGuid().ToString()))
        {
            Assert.Equal(["counting"], (await IngressRig.ProblemAsync(refused, HttpStatusCode.Forbidden)).GetProperty("purposes").EnumerateArray().Select(p => p.GetString()));
        }

        var history = mine.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(("counting", false, "fan"), (history[0].GetProperty("what").GetString(), history[0].GetProperty("granted").GetBoolean(), history[0].GetProperty("source").GetString()));
        Assert.Contains(history, h => h.GetProperty("what").GetString() == "counting" && h.GetProperty("granted").GetBoolean() && h.GetProperty("source").GetString() == "sign-in");

        // The other session's token still says what it said when issued; its refresh carries the withdrawal.
        using var refresh = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions/refresh");
        refresh.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tablet);
        using var refreshed = await rig.Http.SendAsync(refresh, Ct);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var renewed = (await refreshed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString();
        using var refusedToo = await rig.VoteAsync(window, renewed, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Forbidden, refusedToo.StatusCode);
    }

    [Fact]
    public async Task BadChoices_AreProblemJson_AndChangeNothing()
    {
        var token = await GuestAsync("c-bad-" + Guid.NewGuid().ToString("N")[..6], consent: null);
        var before = await MineAsync(token);
        var cases = new (object Body, HttpStatusCode Status, string Says)[]
        {
            (new { purposes = Array.Empty<object>() }, HttpStatusCode.BadRequest, "at least one choice"),
            (new { purposes = new[] { new { purpose = "telemetry", granted = true, version = PrivacyPolicy.FirstVersion } } }, HttpStatusCode.BadRequest, "one of counting"),
            (new { purposes = new[] { new { purpose = "rewards", granted = true } } }, HttpStatusCode.BadRequest, "\"version\""),
            (new { purposes = new[] { new { purpose = "rewards", granted = true, version = "2020-01-01" } } }, HttpStatusCode.Conflict, "now version " + PrivacyPolicy.FirstVersion),
            (new { purposes = TestConsent.Choices((Purposes.Rewards, true), (Purposes.Rewards, false)) }, HttpStatusCode.BadRequest, "more than once"),
            // A guest's age is unknown: marketing is for adults, and refusing it refuses the whole request (rewards too).
            (new { purposes = TestConsent.Choices((Purposes.Rewards, true), (Purposes.Marketing, true)) }, HttpStatusCode.Forbidden, "birth year"),
        };
        foreach (var (body, status, says) in cases)
        {
            using var put = new HttpRequestMessage(HttpMethod.Put, "/v1/me/consent") { Content = JsonContent.Create(body) };
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var r = await rig.Http.SendAsync(put, Ct);
            Assert.Contains(says, (await IngressRig.ProblemAsync(r, status)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // A guest gives no birth year; a sign-in with a bad choice is refused before it counts.
        using (var guestYear = await rig.Http.PostAsJsonAsync("/v1/sessions/guest", new { deviceId = "c-bad-y", consent = new[] { new { purpose = "counting", granted = true } } }, Ct))
        {
            await IngressRig.ProblemAsync(guestYear, HttpStatusCode.BadRequest);
        }

        Assert.Equal(before.GetRawText(), (await MineAsync(token)).GetRawText());

        using var anonymous = await rig.Http.GetAsync("/v1/me/consent", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var anonymousPut = await rig.Http.PutAsJsonAsync("/v1/me/consent", new { purposes = TestConsent.Voting }, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousPut.StatusCode);
    }

    [Fact]
    public async Task AChild_GetsNoMarketing_AndRewardsOnlyOnceAGuardianConsents()
    {
        var year = DateTimeOffset.UtcNow.Year - 11; // certainly 10, under every region's age of digital consent
        var contact = $"kid-{Guid.NewGuid().ToString("N")[..10]}@example.com";
        using (var marketing = await rig.PasscodeSignInAsync(contact, year, TestConsent.Choices((Purposes.Counting, true), (Purposes.FraudPrevention, true), (Purposes.Marketing, true))))
        {
            Assert.Equal(["marketing"], (await IngressRig.ProblemAsync(marketing, HttpStatusCode.Forbidden)).GetProperty("purposes").EnumerateArray().Select(p => p.GetString()));
        }

        using var signIn = await rig.PasscodeSignInAsync(contact, year, TestConsent.Voting);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var token = (await signIn.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString()!;
        var mine = await MineAsync(token);
        Assert.Equal("child", mine.GetProperty("ageBand").GetString());
        Assert.Equal(year, mine.GetProperty("birthYear").GetInt32());

        // The birth year is given once.
        using (var otherYear = await rig.PasscodeSignInAsync(contact, year - 20, consent: null))
        {
            await IngressRig.ProblemAsync(otherYear, HttpStatusCode.Conflict);
        }

        using (var rewards = await PutRawAsync(token, TestConsent.Choices((Purposes.Rewards, true))))
        {
            Assert.Contains("guardian", (await IngressRig.ProblemAsync(rewards, HttpStatusCode.Forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // The guardian gets a passcode and the child sends it back; a passcode for another guardian address is not asked for.
        var guardian = $"parent-{Guid.NewGuid().ToString("N")[..10]}@example.com";
        using (var ask = await PostAsync(token, "/v1/me/guardian", new { email = guardian }))
        {
            Assert.Equal(HttpStatusCode.Accepted, ask.StatusCode);
        }

        var code = await rig.CodeForAsync(guardian);
        using (var stranger = await PostAsync(token, "/v1/me/guardian/verify", new { email = "someone-else@example.com", code }))
        {
            await IngressRig.ProblemAsync(stranger, HttpStatusCode.Conflict);
        }

        using (var wrong = await PostAsync(token, "/v1/me/guardian/verify", new { email = guardian, code = code == "000000" ? "111111" : "000000" }))
        {
            await IngressRig.ProblemAsync(wrong, HttpStatusCode.Unauthorized);
        }

        using var verified = await PostAsync(token, "/v1/me/guardian/verify", new { email = guardian, code });
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        var afterGuardian = await verified.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("granted", afterGuardian.GetProperty("consent").GetProperty("guardian").GetProperty("state").GetString());

        var (withRewards, rewardsMine) = await PutAsync(afterGuardian.GetProperty("token").GetString()!, TestConsent.Choices((Purposes.Rewards, true)));
        using (var askAgain = await PostAsync(withRewards, "/v1/me/guardian", new { email = guardian }))
        {
            await IngressRig.ProblemAsync(askAgain, HttpStatusCode.Conflict); // and the consent given stays
        }

        Assert.Contains(rewardsMine.GetProperty("purposes").EnumerateArray(), p => p.GetProperty("purpose").GetString() == "rewards" && p.GetProperty("inEffect").GetBoolean());
        using (var stillNoMarketing = await PutRawAsync(withRewards, TestConsent.Choices((Purposes.Marketing, true))))
        {
            await IngressRig.ProblemAsync(stillNoMarketing, HttpStatusCode.Forbidden);
        }

        // Nothing of the guardian's contact is kept in the clear.
        await using var mux = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(rig.Data.Address);
        var record = await mux.GetDatabase().HashGetAllAsync($"ingress:acct:{IngressRig.AccountOf(token)}:consent");
        Assert.NotEmpty(record);
        Assert.DoesNotContain(record, f => ((string)f.Value!).Contains("parent-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAdult_MayGiveMarketing_AndGuardiansAreNotAsked()
    {
        var contact = $"adult-{Guid.NewGuid().ToString("N")[..10]}@example.com";
        using var signIn = await rig.PasscodeSignInAsync(contact, DateTimeOffset.UtcNow.Year - 40, TestConsent.Choices((Purposes.Counting, true), (Purposes.FraudPrevention, true), (Purposes.Marketing, true)));
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var token = (await signIn.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString()!;
        var mine = await MineAsync(token);
        Assert.Equal("adult", mine.GetProperty("ageBand").GetString());
        Assert.Contains(mine.GetProperty("purposes").EnumerateArray(), p => p.GetProperty("purpose").GetString() == "marketing" && p.GetProperty("inEffect").GetBoolean());
        using var guardian = await PostAsync(token, "/v1/me/guardian", new { email = "parent@example.com" });
        await IngressRig.ProblemAsync(guardian, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Rates_AreForOperatorsOnly_AndCountEachAccountOnce()
    {
        using (var noKey = await rig.Http.GetAsync("/v1/consent", Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        }

        using (var wrongKey = new HttpRequestMessage(HttpMethod.Get, "/v1/consent"))
        {
            wrongKey.Headers.Add("X-Operator-Key", "not-the-operator-key-at-all");
            using var r = await rig.Http.SendAsync(wrongKey, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        var before = await RatesAsync();
        var a = await GuestAsync("c-rate-a-" + Guid.NewGuid().ToString("N")[..6], TestConsent.Voting);
        await GuestAsync("c-rate-a2-" + Guid.NewGuid().ToString("N")[..6], TestConsent.Voting);
        await GuestAsync("c-rate-b-" + Guid.NewGuid().ToString("N")[..6], consent: null);
        await PutAsync(a, TestConsent.Choices((Purposes.Counting, true), (Purposes.Rewards, true))); // counting again: no change
        var (a2, _) = await PutAsync(a, TestConsent.Choices((Purposes.Rewards, false)));
        await PutAsync(a2, TestConsent.Choices((Purposes.Rewards, true)));
        var after = await RatesAsync();

        long Granted(JsonElement rates, string purpose) => rates.GetProperty("purposes").EnumerateArray().Single(p => p.GetProperty("purpose").GetString() == purpose).GetProperty("granted").GetInt64();
        Assert.Equal(3, after.GetProperty("accounts").GetInt64() - before.GetProperty("accounts").GetInt64());
        Assert.Equal(2, Granted(after, "counting") - Granted(before, "counting"));
        Assert.Equal(1, Granted(after, "rewards") - Granted(before, "rewards"));
        Assert.Equal(0, Granted(after, "marketing") - Granted(before, "marketing"));
        var counting = after.GetProperty("purposes").EnumerateArray().Single(p => p.GetProperty("purpose").GetString() == "counting");
        Assert.Equal(Math.Round((double)Granted(after, "counting") / after.GetProperty("accounts").GetInt64(), 4), counting.GetProperty("rate").GetDouble(), 4);
    }

    private async Task<JsonElement> RatesAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/consent");
        request.Headers.Add("X-Operator-Key", TestKeys.OperatorKey);
        using var r = await rig.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return await r.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private async Task<string> GuestAsync(string device, object[]? consent)
    {
        using var r = await rig.Http.PostAsJsonAsync("/v1/sessions/guest", consent is null ? new { deviceId = device } : (object)new { deviceId = device, consent }, Ct);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync(Ct));
        return (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString()!;
    }


    private async Task<(string Token, JsonElement Consent)> PutAsync(string token, object[] choices)
    {
        using var r = await PutRawAsync(token, choices);
        Assert.True(r.StatusCode == HttpStatusCode.OK, await r.Content.ReadAsStringAsync(Ct));
        var body = await r.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return (body.GetProperty("token").GetString()!, body.GetProperty("consent"));
    }

    private async Task<HttpResponseMessage> PutRawAsync(string token, object[] choices)
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, "/v1/me/consent") { Content = JsonContent.Create(new { purposes = choices }) };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await rig.Http.SendAsync(put, Ct);
    }

    private async Task<HttpResponseMessage> PostAsync(string token, string path, object body)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        post.Headers.Add("X-Forwarded-For", IngressRig.NextAddress());
        return await rig.Http.SendAsync(post, Ct);
    }

    private async Task<JsonElement> MineAsync(string token)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, "/v1/me/consent");
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var r = await rig.Http.SendAsync(get, Ct);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return await r.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }
}
