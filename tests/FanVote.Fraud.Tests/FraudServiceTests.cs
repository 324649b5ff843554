using System.Net.Http.Json;
using System.Text.Json;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;
using StackExchange.Redis;

namespace FanVote.Fraud.Tests;

/// <summary>
/// The fraud service beside its sidecar, fed votes the way ingress publishes them (bulk, through a sidecar with app id
/// `ingress`), on a private Redis; it scores with a private copy of the promoted model.
/// </summary>
public sealed class FraudServiceTests : IAsyncLifetime
{
    private readonly ResourceFolder _resources = ResourceFolder.LocalComponents();
    private readonly string _models = ModelCopy.OfPromoted();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private RedisServer _redis = null!;
    private ServiceHost _fraud = null!;
    private SidecarHost _publisher = null!;
    private DaprClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _fraud = new ServiceHost(AppIds.Fraud, "FanVote.Fraud", _resources.Path,
            appEnv: new Dictionary<string, string?> { ["FANVOTE_MODEL_ROOT"] = _models, ["Fraud__ModelPollInterval"] = "00:00:00.500" }, redisHost: _redis.Address);
        var env = TestKeys.SidecarEnvironment(AppIds.Ingress);
        env["FANVOTE_REDIS_HOST"] = _redis.Address;
        _publisher = new SidecarHost(AppIds.Ingress, _resources.Path, env: env);
        await Task.WhenAll(_fraud.StartAsync(), _publisher.StartAsync());
        _client = _publisher.Client(FanVoteJson.Options);
    }

    [Fact]
    public async Task Subscriptions_VotesInBulkWithItsOwnDeadLetterTopic()
    {
        var subs = await _fraud.Internal.GetFromJsonAsync<JsonElement>("/dapr/subscribe", TestContext.Current.CancellationToken);
        var votes = subs.EnumerateArray().Single(s => s.GetProperty("topic").GetString() == Topics.Votes);

        Assert.Equal(ComponentNames.VoteBus, votes.GetProperty("pubsubName").GetString());
        Assert.Equal(Topics.VotesFraudDeadLetter, votes.GetProperty("deadLetterTopic").GetString());
        Assert.True(votes.GetProperty("bulkSubscribe").GetProperty("enabled").GetBoolean());
        Assert.Contains(subs.EnumerateArray(), s => s.GetProperty("topic").GetString() == Topics.VotesFraudDeadLetter);
        Assert.DoesNotContain(subs.EnumerateArray(), s => s.GetProperty("topic").GetString() == Topics.VotesDeadLetter);
    }

    [Fact]
    public async Task DeviceFarm_GetsADeviceVerdict_AndItsVotesAreFlagged_WhileFansAreLeftAlone()
    {
        var now = DateTimeOffset.UtcNow;
        // Each fan's second vote 3-23 s after the first: people do not keep one shared rhythm (300 fans all exactly
        // 4.1 s apart would be a swarm acting in lockstep, and the group features would say so).
        var fans = Enumerable.Range(0, 300).SelectMany(i => Enumerable.Range(0, 2).Select(k =>
            Vote($"fan-{i}", $"fan-phone-{i}", $"198.51.{i % 50}.{i % 200 + 1}", now.AddMilliseconds((i * 37) + (k * (3_000 + (i * 7_919 % 20_000)))), now.AddDays(-200).AddMinutes(-97 * i))));
        var farm = Enumerable.Range(0, 60).Select(i =>
            Vote($"farm-{i}", "farm-phone", "203.0.113.5", now.AddMilliseconds(i * 70), now.AddMinutes(-20))).ToList();
        var all = fans.Concat(farm).OrderBy(v => v.OccurredAt).ToList();
        await PublishAsync(all);

        var verdicts = await WaitForAsync<RiskVerdictIssued>(Topics.RiskVerdicts, v => v.Subject == "farm-phone");
        var verdict = verdicts.First(v => v.Subject == "farm-phone");
        Assert.Equal((RiskSubjects.Device, RiskAction.Challenge), (verdict.SubjectKind, verdict.Action));
        Assert.Contains("device-farm", verdict.ReasonCodes);
        Assert.Equal(ModelCopy.PromotedVersion(), verdict.ModelVersion);
        Assert.True(verdict.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(20));
        Assert.DoesNotContain(verdicts, v => v.Subject.StartsWith("fan-", StringComparison.Ordinal));

        // Flags come per delivered batch: wait for them. The farm's first few votes (before its phone had five accounts)
        // look like anybody's; nearly all later ones are flagged (bulk batches may arrive out of order, which can cost a few).
        var flags = await WaitForAsync<VotesFlagged>(Topics.VoteFlags, _ => true, all => all.Where(f => f.Subject == "farm-phone").Sum(f => f.VoteIds.Count) >= 50);
        var flagged = flags.Where(f => f.Subject == "farm-phone").SelectMany(f => f.VoteIds).ToHashSet();
        Assert.Subset(farm.Select(v => v.VoteId).ToHashSet(), flagged);
        Assert.InRange(flagged.Count, 50, 60);
        Assert.Contains("device-farm", flags.First(f => f.Subject == "farm-phone").ReasonCodes);
        Assert.DoesNotContain(flags, f => f.Subject.StartsWith("fan-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Promote_SwitchesTheRunningServiceWithoutDroppingAVote_AndABrokenVersionIsIgnored()
    {
        var version = ModelCopy.PromotedVersion();
        var now = DateTimeOffset.UtcNow;
        var votes = Enumerable.Range(0, 3_000).Select(i =>
            Vote($"acc-{i % 700}", $"dev-{i % 700}", $"198.51.100.{i % 250}", now.AddMilliseconds(i * 5), now.AddDays(-90))).ToList();
        var publishing = PublishAsync(votes, pause: TimeSpan.FromMilliseconds(50));

        var next = version + "-b";
        ModelCopy.CopyVersion(Path.Combine(_models, version), Path.Combine(_models, next));
        var info = Path.Combine(_models, next, "metrics.json");
        File.WriteAllText(info, File.ReadAllText(info).Replace($"\"version\": \"{version}\"", $"\"version\": \"{next}\"", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(_models, "current.txt"), next + "\n");
        await WaitForMetricAsync(l => l.StartsWith("fanvote_fraud_model_version{", StringComparison.Ordinal) && l.Contains($"version=\"{next}\"}} 1", StringComparison.Ordinal));

        File.WriteAllText(Path.Combine(_models, "current.txt"), "no-such-version\n");
        await publishing;
        await WaitForMetricAsync(l => l.StartsWith("fanvote_fraud_votes_scored_total{", StringComparison.Ordinal) && l.EndsWith($"}} {votes.Count}", StringComparison.Ordinal));

        var metrics = await _fraud.Internal.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains($"version=\"{next}\"", metrics, StringComparison.Ordinal);
        Assert.Contains("outcome=\"rejected\"", metrics, StringComparison.Ordinal);
        using var health = await _http.GetAsync(new Uri($"{_fraud.BaseUrl}/healthz"), TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task VoteStampedYearsAhead_IsScoredAtNowPlusSkew_AndTheSubjectsTrackedAreKept()
    {
        var now = DateTimeOffset.UtcNow;
        var fans = Enumerable.Range(0, 200).Select(i =>
            Vote($"early-{i}", $"early-phone-{i}", $"198.51.{i % 50}.{i % 200 + 1}", now.AddMilliseconds(i * 10), now.AddDays(-200))).ToList();
        await PublishAsync(fans);
        await WaitForMetricAsync(l => l.StartsWith("fanvote_fraud_votes_scored_total{", StringComparison.Ordinal) && l.EndsWith(" 200", StringComparison.Ordinal));
        var before = await TrackedAccountsAsync();
        Assert.True(before >= 200, $"{before} accounts tracked after 200 fans voted");

        // Sweeps run on event time: unclamped, this one vote would forget every subject and stop the sweeps for ten years.
        await PublishAsync([Vote("forger", "forger-phone", "203.0.113.9", now.AddYears(10), now.AddDays(-100))]);
        await WaitForMetricAsync(l => l.StartsWith("fanvote_fraud_votes_scored_total{", StringComparison.Ordinal) && l.EndsWith(" 201", StringComparison.Ordinal));

        var after = await TrackedAccountsAsync();
        Assert.True(after > before, $"{after} accounts tracked after the forged vote, {before} before: the fans' state was forgotten");
        var metrics = await _fraud.Internal.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("fanvote_fraud_votes_time_clamped_total{", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
    }

    private async Task<int> TrackedAccountsAsync()
    {
        var metrics = await _fraud.Internal.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("fanvote_fraud_subjects_tracked{", StringComparison.Ordinal) && l.Contains("kind=\"account\"", StringComparison.Ordinal));
        Assert.True(line is not null, $"no subjects_tracked gauge for accounts in /metrics:\n{metrics}");
        return int.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static VoteAccepted Vote(string account, string device, string ip, DateTimeOffset at, DateTimeOffset created)
    {
        return TestVotes.Sealed("w-fraud", account.StartsWith("farm", StringComparison.Ordinal) ? "c1" : "c" + (account.Length % 3), account, device, ip, at, created);
    }

    private async Task PublishAsync(IReadOnlyList<VoteAccepted> votes, TimeSpan? pause = null)
    {
        foreach (var chunk in votes.Chunk(100))
        {
            var r = await _client.BulkPublishEventAsync(ComponentNames.VoteBus, Topics.Votes, chunk);
            Assert.Empty(r.FailedEntries);
            if (pause is { } p)
            {
                await Task.Delay(p);
            }
        }
    }

    /// <summary>Every event on <paramref name="topic"/> so far (read straight from the Redis stream), once one matches.</summary>
    private async Task<List<T>> WaitForAsync<T>(string topic, Func<T, bool> match, Func<List<T>, bool>? enough = null)
    {
        await using var mux = await TestRedis.ConnectAsync(_redis.Address);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var events = (await mux.GetDatabase().StreamRangeAsync(topic))
                .Select(e => JsonSerializer.Deserialize<JsonElement>((string)e["data"]!).GetProperty("data").Deserialize<T>(FanVoteJson.Options)!)
                .ToList();
            if (events.Any(match) && (enough is null || enough(events)))
            {
                return events;
            }

            Assert.True(DateTime.UtcNow < deadline, $"nothing matching on {topic} in 30 s; fraud said:\n{_fraud.App.Output}");
            await Task.Delay(200);
        }
    }

    private async Task WaitForMetricAsync(Func<string, bool> line)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string text;
        do
        {
            await Task.Delay(300);
            text = await _fraud.Internal.GetStringAsync("/metrics");
            if (text.Split('\n').Any(line))
            {
                return;
            }
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"/metrics never showed the line:\n{string.Join('\n', text.Split('\n').Where(l => l.StartsWith("fanvote_fraud", StringComparison.Ordinal)))}");
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        _http.Dispose();
        if (_publisher is not null)
        {
            await _publisher.DisposeAsync();
        }

        if (_fraud is not null)
        {
            await _fraud.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        _resources.Dispose();
        Directory.Delete(_models, recursive: true);
    }
}
