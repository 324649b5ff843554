using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;

namespace FanVote.Ingress.Tests;

/// <summary>
/// Verdicts from `risk-verdicts` enforced on the vote path: 403 with a challenge, kept across a restart, lifted by the
/// answer. The device is the signed-in session's (the token's): no header moves a vote onto another device.
/// </summary>
public sealed class RiskVerdictTests : IAsyncLifetime
{
    private readonly IngressRig _rig = new();

    public ValueTask InitializeAsync() => _rig.InitializeAsync();

    public ValueTask DisposeAsync() => _rig.DisposeAsync();

    [Fact]
    public async Task ChallengedDevice_Is403WithChallenge_EvenAfterARestart_UntilTheRightAnswer()
    {
        var window = "risk-" + Guid.NewGuid().ToString("N")[..6];
        await _rig.ScheduleAsync(window, DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(1), votesPerAccount: 50);
        var farmer = await _rig.GuestAsync("farm-phone");
        var bystander = await _rig.GuestAsync("her-phone");
        var verdict = await PublishAsync(RiskSubjects.Device, "farm-phone", RiskAction.Challenge);

        var challengeId = await WaitForChallengeAsync(window, farmer, "farm-phone");
        Assert.Equal(verdict.EventId.ToString(), challengeId);
        using (var other = await VoteAsync(window, bystander, "farm-phone"))
        {
            Assert.Equal(HttpStatusCode.Accepted, other.StatusCode); // naming the farm's phone in a header changes nothing
        }

        using (var dodge = await VoteAsync(window, farmer, "a-fresh-phone"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, dodge.StatusCode); // nor does naming another phone
        }

        await _rig.Ingress.RestartAsync(); // the verdict comes back from ingress's Redis
        Assert.Equal(challengeId, await WaitForChallengeAsync(window, farmer, "farm-phone"));

        Assert.Equal(HttpStatusCode.NotFound, await AnswerAsync(challengeId, bystander, "farm-phone", TestKeys.ChallengeAnswer));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, await AnswerAsync(challengeId, farmer, "farm-phone", "i-am-a-fan"));
        Assert.Equal(HttpStatusCode.NoContent, await AnswerAsync(challengeId, farmer, "farm-phone", TestKeys.ChallengeAnswer));
        using (var after = await VoteAsync(window, farmer, "farm-phone"))
        {
            Assert.Equal(HttpStatusCode.Accepted, after.StatusCode);
        }

        // The same verdict delivered again (at-least-once) does not undo the passed challenge.
        await _rig.Fraud.PublishEventAsync(ComponentNames.VoteBus, Topics.RiskVerdicts, verdict, TestContext.Current.CancellationToken);
        await Task.Delay(1_000, TestContext.Current.CancellationToken);
        using var again = await VoteAsync(window, farmer, "farm-phone");
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
    }

    [Fact]
    public async Task BlockedAccount_Is403WithoutChallenge_AndAPrefixVerdictIsNotEnforced()
    {
        var window = "risk-" + Guid.NewGuid().ToString("N")[..6];
        await _rig.ScheduleAsync(window, DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(1), votesPerAccount: 50);
        var token = await _rig.GuestAsync("blocked-phone");
        var account = JsonDocument.Parse(Convert.FromBase64String(Pad(token.Split('.')[2]))).RootElement.GetProperty("sub").GetString()!;
        await PublishAsync(RiskSubjects.IpPrefix, "198.51.100.0/24", RiskAction.Block);
        await PublishAsync(RiskSubjects.Account, account, RiskAction.Block);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpResponseMessage r;
        while (true)
        {
            r = await VoteAsync(window, token, "blocked-phone");
            if (r.StatusCode == HttpStatusCode.Forbidden || DateTime.UtcNow > deadline)
            {
                break;
            }

            r.Dispose();
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        var problem = await r.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.False(problem.TryGetProperty("challengeId", out _));
        Assert.Contains("blocked until", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        r.Dispose();

        var neighbour = await _rig.GuestAsync("neighbour-phone");
        using var n = await VoteAsync(window, neighbour, "neighbour-phone", ip: "198.51.100.77");
        Assert.Equal(HttpStatusCode.Accepted, n.StatusCode);
    }

    [Fact]
    public async Task LapsedVerdict_IsForgotten_InMemoryAndInIngressRedis()
    {
        var window = "risk-" + Guid.NewGuid().ToString("N")[..6];
        await _rig.ScheduleAsync(window, DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(1), votesPerAccount: 50);
        var token = await _rig.GuestAsync("brief-phone");
        await using var redis = await TestRedis.ConnectAsync(_rig.Data.Address);
        var db = redis.GetDatabase();
        var lasting = await PublishAsync(RiskSubjects.Device, "other-phone", RiskAction.Block);

        // Long enough to be seen on a loaded machine before it lapses.
        var lapses = DateTimeOffset.UtcNow.AddSeconds(30);
        await PublishAsync(RiskSubjects.Device, "brief-phone", RiskAction.Challenge, lapses);
        await WaitForChallengeAsync(window, token, "brief-phone");

        // Ingress applies a verdict in memory, then stores it: the challenge can be seen a moment before the write.
        while (!await db.HashExistsAsync("ingress:verdicts", "device:brief-phone"))
        {
            Assert.True(DateTimeOffset.UtcNow < lapses, "the verdict was not stored in ingress's Redis before it lapsed");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        // Lapsed: votes pass again, and the sweep removes it from the hash and its expiry index; the lasting one stays.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        var seen = "";
        while (true)
        {
            using var r = await VoteAsync(window, token, "brief-phone");
            var stored = await db.HashExistsAsync("ingress:verdicts", "device:brief-phone");
            var indexed = await db.SortedSetScoreAsync("ingress:verdicts:expiry", "device:brief-phone") is not null;
            seen = $"vote {(int)r.StatusCode}, in the hash {stored}, in the index {indexed}";
            if (r.StatusCode == HttpStatusCode.Accepted && !stored && !indexed)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the lapsed verdict was not forgotten within 2 minutes: {seen}");
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        Assert.True(await db.HashExistsAsync("ingress:verdicts", "device:other-phone"), "a verdict still in force was pruned");
        Assert.Equal(lasting.ExpiresAt.ToUnixTimeMilliseconds(), (long?)await db.SortedSetScoreAsync("ingress:verdicts:expiry", "device:other-phone"));
    }

    private async Task<RiskVerdictIssued> PublishAsync(string kind, string subject, RiskAction action, DateTimeOffset? expiresAt = null)
    {
        var v = new RiskVerdictIssued
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, SubjectKind = kind, Subject = subject, Score = 9.5, ReasonCodes = ["device-farm"],
            Action = action, ModelVersion = "test", ExpiresAt = expiresAt ?? DateTimeOffset.UtcNow.AddMinutes(30),
        };
        await _rig.Fraud.PublishEventAsync(ComponentNames.VoteBus, Topics.RiskVerdicts, v);
        return v;
    }

    [Fact]
    public async Task RetryOfAnAcceptedVote_AfterTheAccountIsChallenged_GetsItsOriginal202()
    {
        var window = "risk-" + Guid.NewGuid().ToString("N")[..6];
        await _rig.ScheduleAsync(window, DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(1), votesPerAccount: 50);
        var token = await _rig.GuestAsync("retry-phone");
        var first = await VoteWithKeyAsync(window, token, "retry-key-1", "a");
        Assert.Equal(HttpStatusCode.Accepted, first.Status);

        // Probe for the challenge in a window of its own: a probe accepted before the verdict lands must not count here.
        var probe = "probe-" + Guid.NewGuid().ToString("N")[..6];
        await _rig.ScheduleAsync(probe, DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow.AddHours(1), votesPerAccount: 50);
        await PublishAsync(RiskSubjects.Device, "retry-phone", RiskAction.Challenge);
        await WaitForChallengeAsync(probe, token, "retry-phone");

        var retry = await VoteWithKeyAsync(window, token, "retry-key-1", "a");
        var otherCandidate = await VoteWithKeyAsync(window, token, "retry-key-1", "b");
        var fresh = await VoteWithKeyAsync(window, token, "retry-key-2", "a");
        Assert.Equal((HttpStatusCode.Accepted, first.Body.GetProperty("voteId").GetGuid()), (retry.Status, retry.Body.GetProperty("voteId").GetGuid()));
        Assert.Equal(first.Body.GetProperty("receipt").GetString(), retry.Body.GetProperty("receipt").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, otherCandidate.Status);
        Assert.Equal(HttpStatusCode.Forbidden, fresh.Status);
        Assert.Single(await _rig.PublishedAsync(window));
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> VoteWithKeyAsync(string window, string token, string key, string candidate)
    {
        using var r = await _rig.VoteAnsweredAsync(window, token, key, candidate);
        return (r.StatusCode, await r.Content.ReadFromJsonAsync<JsonElement>());
    }

    private async Task<string> WaitForChallengeAsync(string window, string token, string device)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            using var r = await VoteAsync(window, token, device);
            if (r.StatusCode == HttpStatusCode.Forbidden)
            {
                Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
                var problem = await r.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal($"/v1/challenges/{problem.GetProperty("challengeId").GetString()}", problem.GetProperty("challengeUrl").GetString());
                return problem.GetProperty("challengeId").GetString()!;
            }

            seen = ((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Task.Delay(100);
        }

        throw new TimeoutException($"no 403 within 60 s of the verdict; the last vote got {seen}");
    }

    /// <summary>One vote; a 503 (the broker not acknowledging yet, e.g. just after the restart) is retried with the same key.</summary>
    private async Task<HttpResponseMessage> VoteAsync(string window, string token, string device, string ip = "203.0.113.50")
    {
        var key = Guid.NewGuid().ToString("N");
        for (var attempt = 0; ; attempt++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes") { Content = JsonContent.Create(new { candidateId = "a" }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("Idempotency-Key", key);
            request.Headers.Add("X-Device-Id", device); // ignored by ingress: the device is the token's
            request.Headers.Add("X-Forwarded-For", ip);
            var r = await _rig.Http.SendAsync(request);
            if (r.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 20)
            {
                return r;
            }

            r.Dispose();
            await Task.Delay(500);
        }
    }

    private async Task<HttpStatusCode> AnswerAsync(string challengeId, string token, string device, string answer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/challenges/{challengeId}") { Content = JsonContent.Create(new { answer }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Device-Id", device);
        using var r = await _rig.Http.SendAsync(request);
        return r.StatusCode;
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - (s.Length % 4)) % 4);
    }
}
