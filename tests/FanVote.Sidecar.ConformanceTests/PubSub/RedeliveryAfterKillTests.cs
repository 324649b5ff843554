using FanVote.Testing;

namespace FanVote.Sidecar.ConformanceTests.PubSub;

public sealed class KillRig : PubSubRig
{
    protected override IEnumerable<TopicSpec> Topics() => [new("bus", T("kill"), "kill")];

    protected override void Configure(ResourceFolder resources) =>
        resources.With("bus.yaml", RedisComponent("bus", Meta("processingTimeout", "3000") + Meta("redeliverInterval", "300")));
}

/// <summary>docs/dapr-subset.md §10 row 4, "sidecar killed with pending entries (redelivered after restart)" (§6.1).</summary>
[Trait("Category", "Conformance")]
public sealed class RedeliveryAfterKillTests(KillRig rig) : IClassFixture<KillRig>
{
    [Fact]
    public async Task SubscriberSidecarKilledWithPendingEntries_AfterRestart_TheyAreDelivered()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("kill");
        var keys = Enumerable.Range(0, 5).Select(i => $"kill-{i}").ToList();
        foreach (var k in keys)
        {
            // The first delivery hangs in the app far beyond the sidecar's life; only a redelivery can finish it.
            await rig.Client.PublishEventAsync("bus", topic, new { key = k, behavior = "sleep-first:20000" }, ct);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (await rig.PendingAsync(topic) < keys.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, ct);
        }

        Assert.Equal(keys.Count, await rig.PendingAsync(topic));
        await rig.Subscriber.KillAsync();
        Assert.Equal(keys.Count, await rig.PendingAsync(topic));

        // Published while the subscriber's sidecar is down: read as new entries after the restart.
        await rig.Client.PublishEventAsync("bus", topic, new { key = "kill-while-down", behavior = "ok" }, ct);
        await rig.Subscriber.RestartAsync();

        var r = await rig.WaitAsync(
            topic,
            x => keys.All(k => x.Messages.Any(m => m.Key == k && m.Attempt >= 2)) && x.Messages.Any(m => m.Key == "kill-while-down"),
            TimeSpan.FromSeconds(20),
            ct);
        Assert.All(keys, k => Assert.Contains(r.Messages, m => m.Key == k && m.Attempt >= 2 && m.Answer == "ok"));
        Assert.Contains(r.Messages, m => m.Key == "kill-while-down");
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (await rig.PendingAsync(topic) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
        }

        Assert.Equal(0, await rig.PendingAsync(topic));
    }
}
