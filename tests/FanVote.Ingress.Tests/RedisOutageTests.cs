using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Testing;

namespace FanVote.Ingress.Tests;

/// <summary>
/// Ingress's own Redis (idempotency, quotas, rate limits) SIGKILLed and restarted from its append-only file: while it
/// is down every vote is answered 503 with Retry-After and a problem a fan's app can act on, never a 500 and never a
/// hang; once it is back ingress serves votes again by itself (no restart), and a retry with the same Idempotency-Key
/// is accepted once. In production the broker and ingress's data share one Redis: the last test kills both.
/// </summary>
public sealed class RedisOutageTests : IAsyncLifetime
{
    private readonly OutageRig _rig = new();

    public ValueTask InitializeAsync() => _rig.InitializeAsync();

    public ValueTask DisposeAsync() => _rig.DisposeAsync();

    [Fact]
    public async Task Vote_AdmissionRedisKilled_Is503WithRetryAfter_ThenRecoversByItself_RetryWithSameKeyAcceptedOnce()
    {
        var w = "ro-" + Guid.NewGuid().ToString("N")[..8];
        await _rig.ScheduleAsync(w, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        var token = await _rig.GuestAsync("dev-redis-outage");
        var before = Guid.NewGuid().ToString("N");
        using (var ok = await _rig.VoteAsync(w, token, before))
        {
            Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        }

        await _rig.Data.KillAsync();
        var key = Guid.NewGuid().ToString("N");
        using (var down = await _rig.VoteAsync(w, token, key))
        {
            await AssertRetryLaterAsync(down);
        }

        // Signing in needs Redis too (sign-in limits, account age): 503 as well, not an error.
        using (var signIn = await _rig.Http.PostAsJsonAsync("/v1/sessions/guest", new { deviceId = "dev-during-outage", consent = TestConsent.Voting }, TestContext.Current.CancellationToken))
        {
            await AssertRetryLaterAsync(signIn, "again");
        }

        // A retry of a vote acknowledged before the outage cannot be confirmed either while Redis is away.
        using (var downRetry = await _rig.VoteAsync(w, token, before))
        {
            await AssertRetryLaterAsync(downRetry);
        }

        await _rig.Data.StartAgainAsync();
        var id = await VoteUntilAcceptedAsync(w, token, key);
        using (var again = await _rig.VoteAsync(w, token, key))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            Assert.Equal(id, (await again.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("voteId").GetGuid());
        }

        // The vote acknowledged before the kill is still known (its record was in the append-only file): same answer.
        var beforeId = await VoteUntilAcceptedAsync(w, token, before);
        var published = await _rig.PublishedAsync(w);
        Assert.Equal(new[] { beforeId, id }.ToHashSet(), published.ToHashSet());
        Assert.Equal(published.Count, published.Distinct().Count());
    }

    [Fact]
    public async Task Vote_AdmissionRedisHung_Is503WithRetryAfter_NotAnError_ThenRecoversWhenItAnswersAgain()
    {
        var w = "rh-" + Guid.NewGuid().ToString("N")[..8];
        await _rig.ScheduleAsync(w, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        var token = await _rig.GuestAsync("dev-redis-hung");
        var key = Guid.NewGuid().ToString("N");

        // A hung Redis (or a partition) closes no connection: ingress's calls time out instead of failing at once.
        await _rig.Data.PauseAsync();
        try
        {
            using var down = await _rig.VoteAsync(w, token, key);
            await AssertRetryLaterAsync(down);
            using var signIn = await _rig.Http.PostAsJsonAsync("/v1/sessions/guest", new { deviceId = "dev-during-hang", consent = TestConsent.Voting }, TestContext.Current.CancellationToken);
            await AssertRetryLaterAsync(signIn, "again");
        }
        finally
        {
            await _rig.Data.ResumeAsync();
        }

        var id = await VoteUntilAcceptedAsync(w, token, key);
        Assert.Equal([id], (await _rig.PublishedAsync(w)).Distinct());
    }

    [Fact]
    public async Task Vote_BurstWhileTheOneRedisIsKilledAndRestarted_Only202Or503_EveryRetriedVoteAcceptedAndPublished()
    {
        var w = "rb-" + Guid.NewGuid().ToString("N")[..8];
        await _rig.ScheduleAsync(w, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), votesPerAccount: 100);
        const int Fans = 40;
        const int PerFan = 25;
        var tokens = new string[Fans];
        for (var i = 0; i < Fans; i++)
        {
            tokens[i] = await _rig.GuestAsync($"dev-burst-{i}");
        }

        var accepted = new ConcurrentDictionary<string, Guid>();
        var unavailable = 0;
        var others = new ConcurrentQueue<string>();
        var done = 0;
        var killed = new TaskCompletionSource();
        var voting = Task.WhenAll(Enumerable.Range(0, Fans).Select(f => Task.Run(async () =>
        {
            for (var v = 0; v < PerFan; v++)
            {
                var key = $"{w}-{f}-{v}";
                var deadline = DateTime.UtcNow.AddMinutes(3);
                while (true)
                {
                    using var r = await _rig.VoteAsync(w, tokens[f], key, "abc"[(f + v) % 3].ToString());
                    if (r.StatusCode == HttpStatusCode.Accepted)
                    {
                        accepted[key] = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("voteId").GetGuid();
                        break;
                    }

                    if (r.StatusCode == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline)
                    {
                        Interlocked.Increment(ref unavailable);
                        if (r.Headers.RetryAfter?.Delta is not { } wait || r.Content.Headers.ContentType?.MediaType != "application/problem+json")
                        {
                            others.Enqueue($"503 without Retry-After or problem+json for {key}");
                            wait = TimeSpan.FromSeconds(1);
                        }

                        await Task.Delay(wait);
                        continue;
                    }

                    others.Enqueue($"{key}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
                    break;
                }

                if (Interlocked.Increment(ref done) == Fans * PerFan / 3)
                {
                    killed.TrySetResult();
                }
            }
        })));

        await killed.Task.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        await Task.WhenAll(_rig.Data.KillAsync(), _rig.Bus.KillAsync());
        await Task.Delay(1500, TestContext.Current.CancellationToken);
        await Task.WhenAll(_rig.Data.StartAgainAsync(), _rig.Bus.StartAgainAsync());
        await voting.WaitAsync(TimeSpan.FromMinutes(4), TestContext.Current.CancellationToken);

        Assert.True(others.IsEmpty, $"answers other than 202 and 503 + Retry-After: {string.Join("; ", others.Take(10))}");
        Assert.Equal(Fans * PerFan, accepted.Count);
        Assert.True(unavailable > 0, "no vote met the outage (every vote finished before the kill?): the test showed nothing");
        var published = (await _rig.PublishedAsync(w)).ToHashSet();
        var missing = accepted.Values.Where(id => !published.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {accepted.Count} accepted votes are not on the votes stream after the restart, e.g. {string.Join(", ", missing.Take(5))}");
    }

    private static async Task AssertRetryLaterAsync(HttpResponseMessage r, string detailSays = "Idempotency-Key")
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        Assert.NotNull(r.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var problem = await r.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Contains(detailSays, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private async Task<Guid> VoteUntilAcceptedAsync(string w, string token, string key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var seen = new List<string>();
        while (DateTime.UtcNow < deadline)
        {
            using var r = await _rig.VoteAsync(w, token, key);
            if (r.StatusCode == HttpStatusCode.Accepted)
            {
                return (await r.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("voteId").GetGuid();
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            seen.Add(((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Task.Delay(r.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"ingress did not accept the vote within 60 s of Redis's restart; answers: {string.Join(",", seen.TakeLast(20))}");
    }

    /// <summary>Vote rate limits out of the way: the burst's fans vote back to back from one address.</summary>
    private sealed class OutageRig : IngressRig
    {
        protected override Dictionary<string, string?> AppSettings => new()
        {
            ["Ingress__PerAccountPerSecond"] = "10000",
            ["Ingress__PerDevicePerSecond"] = "10000",
            ["Ingress__PerIpPrefixPerSecond"] = "100000",
        };
    }
}
