using FanVote.Testing;

namespace FanVote.Sidecar.ConformanceTests.PubSub;

public sealed class DeliveryRig : PubSubRig
{
    public const int MaxRetries = 3;

    protected override IEnumerable<TopicSpec> Topics() =>
    [
        new("bus", T("ok"), "ok"),
        new("bus", T("retry"), "retry", DeadLetterTopic: T("retry-dead")),
        new("bus", T("retry-dead"), "retry-dead") { Behavior = "ok" },
        new("bus", T("drop"), "drop", DeadLetterTopic: T("drop-dead")),
        new("bus", T("drop-dead"), "drop-dead") { Behavior = "ok" },
        new("bus", T("nf"), "nf", DeadLetterTopic: T("nf-dead")),
        new("bus", T("nf-dead"), "nf-dead") { Behavior = "ok" },
        new("bus", T("fail"), "fail"),
        new("hasty", T("slow"), "slow"),
        new("bus", T("rules"), "rules/default") { Rules = [new("event.type == \"vote.a\"", "rules/a", 1), new("event.type == \"vote.b\" || event.subject == \"b\"", "rules/b", 2)] },
        new("bus", T("nomatch"), null, DeadLetterTopic: T("nomatch-dead")) { Rules = [new("event.type == \"only.this\"", "nomatch/only", 1)] },
        new("bus", T("nomatch-dead"), "nomatch-dead") { Behavior = "ok" },
        new("noretry", T("lost"), "lost"),
        new("forever", T("load"), "load"),
    ];

    protected override void Configure(ResourceFolder resources) =>
        resources
            // processingTimeout far above any delivery here, even on a starved machine: a delivery still running when it
            // lapses is claimed again (at-least-once), which would add an attempt to the exact counts asserted below.
            // Only the slow handler's topic, on its own component, runs into a short one on purpose.
            .With("bus.yaml", RedisComponent("bus", Meta("processingTimeout", "60000") + Meta("redeliverInterval", "250") + Meta("concurrency", "20")))
            .With("hasty.yaml", RedisComponent("hasty", Meta("processingTimeout", "2000") + Meta("redeliverInterval", "250")))
            .With("noretry.yaml", RedisComponent("noretry"))
            .With("forever.yaml", RedisComponent("forever", Meta("concurrency", "64") + Meta("queueDepth", "256")))
            .With("resiliency.yaml", $"""
                apiVersion: dapr.io/v1alpha1
                kind: Resiliency
                metadata:
                  name: delivery-tests
                spec:
                  policies:
                    retries:
                      three: {"{"} policy: constant, duration: 20ms, maxRetries: {MaxRetries} {"}"}
                      forever: {"{"} policy: constant, duration: 5ms, maxRetries: -1 {"}"}
                  targets:
                    components:
                      bus: {"{"} inbound: {"{"} retry: three {"}"} {"}"}
                      forever: {"{"} inbound: {"{"} retry: forever {"}"} {"}"}
                """);
}

/// <summary>docs/dapr-subset.md §10 row 4: the app-answer table (§4.2), dead-lettering, redelivery and routing.</summary>
[Trait("Category", "Conformance")]
public sealed class DeliveryOutcomeTests(DeliveryRig rig) : IClassFixture<DeliveryRig>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Delivery_EmptyOkAndStatusSuccess_HandledOnceAndAcked()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("ok");
        await rig.Client.PublishEventAsync("bus", topic, new { key = "ok-empty", behavior = "ok" }, ct);
        await rig.Client.PublishEventAsync("bus", topic, new { key = "ok-success", behavior = "success" }, ct);

        var r = await rig.WaitAsync(topic, x => x.Messages.Count >= 2, Wait, ct);
        await Task.Delay(500, ct);
        r = await rig.ReceivedAsync(topic, ct);
        Assert.Single(r.Messages, m => m.Key == "ok-empty");
        Assert.Single(r.Messages, m => m.Key == "ok-success");
        Assert.Equal(0, await rig.PendingAsync(topic));
    }

    [Fact]
    public async Task Delivery_StatusRetry_RetriedPerPolicyThenDeadLettered()
    {
        var ct = TestContext.Current.CancellationToken;
        await rig.Client.PublishEventAsync("bus", rig.T("retry"), new { key = "retry-1", behavior = "retry" }, ct);

        var dead = await rig.WaitAsync(rig.T("retry-dead"), x => x.Messages.Any(m => m.Key == "retry-1"), Wait, ct);
        Assert.Single(dead.Messages, m => m.Key == "retry-1");
        var attempts = (await rig.ReceivedAsync(rig.T("retry"), ct)).Messages.Where(m => m.Key == "retry-1").ToList();
        Assert.Equal(1 + DeliveryRig.MaxRetries, attempts.Count);
        Assert.All(attempts, a => Assert.Equal("RETRY", a.Answer));

        // The dead-letter copy is the original message: same CloudEvent id.
        Assert.Equal(attempts[0].CloudEventId, dead.Messages.Single(m => m.Key == "retry-1").CloudEventId);
        Assert.Equal(0, await rig.PendingAsync(rig.T("retry")));
    }

    [Fact]
    public async Task Delivery_RetriesExhaustedWithoutDeadLetter_AckedLostAndLoggedAsError()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("lost");
        await rig.Client.PublishEventAsync("noretry", topic, new { key = "lost-1", behavior = "500" }, ct);

        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "lost-1"), Wait, ct);
        var m = Assert.Single(r.Messages, m => m.Key == "lost-1");
        var deadline = DateTime.UtcNow + Wait;
        while (!rig.Subscriber.Process.Output.Contains($"message {m.CloudEventId}", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
        }

        Assert.Contains($"message {m.CloudEventId} on noretry/{topic} is LOST", rig.Subscriber.Process.Output, StringComparison.Ordinal);
        Assert.Contains($"subscription to noretry/{topic} has neither an inbound retry policy nor a deadLetterTopic", rig.Subscriber.Process.Output, StringComparison.Ordinal);
        await Task.Delay(500, ct);
        Assert.Single((await rig.ReceivedAsync(topic, ct)).Messages, x => x.Key == "lost-1");
        Assert.Equal(0, await rig.PendingAsync(topic));
    }

    [Fact]
    public async Task Delivery_StatusDrop_NotRetriedAndDeadLettered()
    {
        var ct = TestContext.Current.CancellationToken;
        await rig.Client.PublishEventAsync("bus", rig.T("drop"), new { key = "drop-1", behavior = "drop" }, ct);

        var dead = await rig.WaitAsync(rig.T("drop-dead"), x => x.Messages.Any(m => m.Key == "drop-1"), Wait, ct);
        Assert.Single(dead.Messages, m => m.Key == "drop-1");
        Assert.Single((await rig.ReceivedAsync(rig.T("drop"), ct)).Messages, m => m.Key == "drop-1");
    }

    [Fact]
    public async Task Delivery_App404_DroppedWithoutRetryAndDeadLettered()
    {
        var ct = TestContext.Current.CancellationToken;
        await rig.Client.PublishEventAsync("bus", rig.T("nf"), new { key = "nf-1", behavior = "404" }, ct);

        var dead = await rig.WaitAsync(rig.T("nf-dead"), x => x.Messages.Any(m => m.Key == "nf-1"), Wait, ct);
        Assert.Single(dead.Messages, m => m.Key == "nf-1");
        Assert.Single((await rig.ReceivedAsync(rig.T("nf"), ct)).Messages, m => m.Key == "nf-1");
    }

    [Fact]
    public async Task Delivery_App500_RetriedUntilHandled()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("fail");
        await rig.Client.PublishEventAsync("bus", topic, new { key = "fail-1", behavior = "fail-first:2" }, ct);

        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "fail-1" && m.Handled), Wait, ct);
        var attempts = r.Messages.Where(m => m.Key == "fail-1").OrderBy(m => m.Attempt).ToList();
        Assert.Equal(["500", "500", "ok"], attempts.Select(a => a.Answer));

        // The sidecar acks after the app's answer reaches it: give the XACK its moment.
        var deadline = DateTime.UtcNow + Wait;
        while (await rig.PendingAsync(topic) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, ct);
        }

        Assert.Equal(0, await rig.PendingAsync(topic));
    }

    [Fact]
    public async Task Delivery_HandlerSlowerThanProcessingTimeout_Redelivered()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("slow");
        await rig.Client.PublishEventAsync("hasty", topic, new { key = "slow-1", behavior = "sleep-first:4000" }, ct);

        // processingTimeout is 2 s: the first delivery is abandoned (left pending) and XCLAIMed again.
        var r = await rig.WaitAsync(topic, x => x.Messages.Count(m => m.Key == "slow-1") >= 2, Wait, ct);
        var attempts = r.Messages.Where(m => m.Key == "slow-1").OrderBy(m => m.Seq).ToList();
        Assert.True(attempts.Count >= 2, $"expected a redelivery, saw {attempts.Count} attempt(s)");
        Assert.Equal(attempts[0].CloudEventId, attempts[1].CloudEventId);
        var deadline = DateTime.UtcNow + Wait;
        while (await rig.PendingAsync(topic) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
        }

        Assert.Equal(0, await rig.PendingAsync(topic));
    }

    [Fact]
    public async Task Delivery_RoutingRules_FirstMatchingRuleElseDefault()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("rules");
        await rig.Client.PublishEventAsync("bus", topic, new { key = "rule-a" }, new Dictionary<string, string> { ["cloudevent.type"] = "vote.a" }, ct);
        await rig.Client.PublishEventAsync("bus", topic, new { key = "rule-b" }, new Dictionary<string, string> { ["cloudevent.subject"] = "b" }, ct);
        await rig.Client.PublishEventAsync("bus", topic, new { key = "rule-default" }, new Dictionary<string, string> { ["cloudevent.type"] = "vote.c" }, ct);

        var r = await rig.WaitAsync(topic, x => x.Messages.Count >= 3, Wait, ct);
        Assert.Equal("rules/a", r.Messages.Single(m => m.Key == "rule-a").Route);
        Assert.Equal("rules/b", r.Messages.Single(m => m.Key == "rule-b").Route);
        Assert.Equal("rules/default", r.Messages.Single(m => m.Key == "rule-default").Route);
    }

    [Fact]
    public async Task Delivery_NoRuleMatches_DroppedAckedAndDeadLettered()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("nomatch");
        await rig.Client.PublishEventAsync("bus", topic, new { key = "nomatch-1" }, new Dictionary<string, string> { ["cloudevent.type"] = "other" }, ct);
        await rig.Client.PublishEventAsync("bus", topic, new { key = "match-1" }, new Dictionary<string, string> { ["cloudevent.type"] = "only.this" }, ct);

        var dead = await rig.WaitAsync(rig.T("nomatch-dead"), x => x.Messages.Any(m => m.Key == "nomatch-1"), Wait, ct);
        Assert.Single(dead.Messages, m => m.Key == "nomatch-1");
        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "match-1"), Wait, ct);
        Assert.DoesNotContain(r.Messages, m => m.Key == "nomatch-1");
        Assert.Equal("nomatch/only", r.Messages.Single(m => m.Key == "match-1").Route);

        // Both are acknowledged: the handled one just after its handler answered (it may still be pending at the moment
        // the handler saw it), the dropped one with its dead letter.
        var deadline = DateTime.UtcNow + Wait;
        while (await rig.PendingAsync(topic) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
        }

        Assert.Equal(0, await rig.PendingAsync(topic));
    }

    [Fact]
    public async Task Delivery_TenThousandMessagesToFlakyHandler_EveryMessageHandledNoneLost()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("load");
        const int total = 10_000;
        var keys = Enumerable.Range(0, total).Select(i => $"m{i}").ToList();
        foreach (var chunk in keys.Chunk(1000))
        {
            var res = await rig.Client.BulkPublishEventAsync("forever", topic, chunk.Select(k => new { key = k, behavior = "random:10" }).ToList(), cancellationToken: ct);
            Assert.Empty(res.FailedEntries);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        PubSubRig.Summary s;
        do
        {
            await Task.Delay(500, ct);
            s = await rig.SummaryAsync(topic, ct);
        }
        while (s.Handled.Count < total && DateTime.UtcNow < deadline);

        Assert.Equal(keys.ToHashSet(), s.Handled.ToHashSet());

        // The handler really failed about one time in ten, and those failures were retried.
        var failures = s.Attempts.Values.Sum() - total;
        Assert.InRange(failures, total / 20, total / 5);
    }
}
