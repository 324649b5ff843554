using StackExchange.Redis;

namespace FanVote.Sidecar.ConformanceTests.PubSub;

public sealed class TrimRig : PubSubRig
{
    protected override IEnumerable<TopicSpec> Topics() =>
    [
        new("bus", T("trim"), "trim"),
        new("bus", T("trimdl"), "trimdl", DeadLetterTopic: T("trimdl-dead")),
        new("bus", T("trimdl-dead"), "trimdl-dead") { Behavior = "ok" },
    ];

    protected override IReadOnlyDictionary<string, string?>? SubscriberSidecarEnvironment =>
        new Dictionary<string, string?> { ["FANVOTE_STREAM_TRIM_INTERVAL"] = "100ms" };

    protected override void Configure(FanVote.Testing.ResourceFolder resources) => resources.With("bus.yaml", RedisComponent("bus"));
}

/// <summary>
/// Issue 12, bounded memory: the subscriber's sidecar trims the streams it consumes below what every consumer
/// group acknowledged (its own and any other app's), and never trims a dead-letter topic.
/// </summary>
[Trait("Category", "Conformance")]
public sealed class TrimTests(TrimRig rig) : IClassFixture<TrimRig>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private async Task<List<string>> PublishAsync(string topic, string prefix, int n, CancellationToken ct)
    {
        for (var i = 0; i < n; i++)
        {
            await rig.Client.PublishEventAsync("bus", topic, new { key = $"{prefix}{i}" }, ct);
        }

        return [.. (await rig.Redis.GetDatabase().StreamRangeAsync(topic)).Select(e => (string)e.Id!)];
    }

    private async Task<List<string>> WaitForStreamAsync(string topic, Func<List<string>, bool> done, string what, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var ids = (await rig.Redis.GetDatabase().StreamRangeAsync(topic)).Select(e => (string)e.Id!).ToList();
            if (done(ids))
            {
                return ids;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{what}: after {Deadline.TotalSeconds}s the stream {topic} holds {ids.Count} entries, first {ids.FirstOrDefault() ?? "(none)"}");
            await Task.Delay(100, ct);
        }
    }

    [Fact]
    public async Task Trim_SlowOtherGroup_KeepsItsPendingAndUndelivered_TrimsWhatAllAcked()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("trim");
        var db = rig.Redis.GetDatabase();
        // Another app's group on the same stream, created before anything is published: it has consumed nothing.
        await db.StreamCreateConsumerGroupAsync(topic, "slow", "0", createStream: true);

        var ids = await PublishAsync(topic, "t", 200, ct);
        Assert.Equal(200, ids.Count);
        var got = await rig.WaitAsync(topic, r => r.Messages.Select(m => m.Key).Distinct().Count() == 200, Deadline, ct);
        Assert.Equal(200, got.Messages.Select(m => m.Key).Distinct().Count());
        var deadline = DateTime.UtcNow + Deadline;
        while (await rig.PendingAsync(topic) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the subscriber's group never acknowledged everything");
            await Task.Delay(100, ct);
        }

        // The subscriber acked everything, the slow group consumed nothing: everything is still there. Then the slow
        // group reads 80 and acks the first 30; the trim that follows must stop at the 31st.
        var slow = (await db.StreamReadGroupAsync(topic, "slow", "slow", ">", 80)).Select(e => (string)e.Id!).ToList();
        Assert.Equal(ids.Take(80), slow);
        Assert.Equal(ids, (await db.StreamRangeAsync(topic)).Select(e => (string)e.Id!));
        await db.StreamAcknowledgeAsync(topic, "slow", [.. slow.Take(30).Select(i => (RedisValue)i)]);

        var left = await WaitForStreamAsync(topic, s => s.Count <= 170, "trim below the slow group's oldest pending entry", ct);
        Assert.Equal(ids.Skip(30), left);

        // The slow group acks all it holds: the cut moves to the first entry it has not been given, no further.
        await db.StreamAcknowledgeAsync(topic, "slow", [.. slow.Skip(30).Select(i => (RedisValue)i)]);
        left = await WaitForStreamAsync(topic, s => s.Count <= 120, "trim below the slow group's first undelivered entry", ct);
        Assert.Equal(ids.Skip(80), left);
        Assert.Equal(ids.Skip(80), (await db.StreamReadGroupAsync(topic, "slow", "slow", ">", 1000)).Select(e => (string)e.Id!));

        await db.StreamAcknowledgeAsync(topic, "slow", [.. ids.Skip(80).Select(i => (RedisValue)i)]);
        await WaitForStreamAsync(topic, s => s.Count == 0, "trim of everything every group acknowledged", ct);
    }

    [Fact]
    public async Task Trim_DeadLetterTopic_NeverTrimmedThoughSubscribedAndAcked()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("trimdl");
        var dead = rig.T("trimdl-dead");

        for (var i = 0; i < 20; i++)
        {
            await rig.Client.PublishEventAsync("bus", topic, new { key = $"d{i}", behavior = "drop" }, ct);
        }

        await rig.WaitAsync(dead, r => r.Messages.Select(m => m.Key).Distinct().Count() == 20, Deadline, ct);
        // The main topic is trimmed once acked (which proves trim ticks ran after the dead letters were acked) ...
        await WaitForStreamAsync(topic, s => s.Count == 0, "trim of the acked main topic", ct);
        var deadline = DateTime.UtcNow + Deadline;
        while (await rig.Redis.GetDatabase().StreamPendingAsync(dead, rig.SubscriberAppId) is { PendingMessageCount: > 0 })
        {
            Assert.True(DateTime.UtcNow < deadline, "the dead-letter group never acknowledged its entries");
            await Task.Delay(100, ct);
        }

        // ... and a tick that started after the dead letters were acked has run: publish once more and see it trimmed.
        await rig.Client.PublishEventAsync("bus", topic, new { key = "after" }, ct);
        await rig.WaitAsync(topic, r => r.Messages.Any(m => m.Key == "after"), Deadline, ct);
        await WaitForStreamAsync(topic, s => s.Count == 0, "trim of the acked main topic after the dead letters were acked", ct);
        await rig.Client.PublishEventAsync("bus", topic, new { key = "after2" }, ct);
        await WaitForStreamAsync(topic, s => s.Count == 0, "a second trim of the main topic", ct);

        Assert.Equal(20, await rig.Redis.GetDatabase().StreamLengthAsync(dead));
    }
}
