using System.Net;
using System.Text;
using System.Text.Json;
using Dapr.Client.Autogen.Grpc.v1;
using FanVote.Testing;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace FanVote.Sidecar.ConformanceTests.PubSub;

public sealed class BulkRig : PubSubRig
{
    protected override IEnumerable<TopicSpec> Topics() =>
    [
        new("bus", T("plain"), "plain"),
        new("bus", T("size"), "size", Bulk: true, MaxMessagesCount: 10, MaxAwaitDurationMs: 300),
        new("bus", T("wait"), "wait", Bulk: true, MaxMessagesCount: 100, MaxAwaitDurationMs: 600),
        new("bus", T("status"), "status", DeadLetterTopic: T("status-dead"), Bulk: true, MaxMessagesCount: 4, MaxAwaitDurationMs: 3000),
        new("bus", T("status-dead"), "status-dead") { Behavior = "ok" },
        new("bus", T("nonjson"), "nonjson", Bulk: true, MaxMessagesCount: 2, MaxAwaitDurationMs: 3000),
    ];

    protected override void Configure(ResourceFolder resources) =>
        resources
            .With("bus.yaml", RedisComponent("bus", Meta("concurrency", "32")))
            .With("resiliency.yaml", """
                apiVersion: dapr.io/v1alpha1
                kind: Resiliency
                metadata:
                  name: bulk-tests
                spec:
                  policies:
                    retries:
                      three: { policy: constant, duration: 20ms, maxRetries: 3 }
                  targets:
                    components:
                      bus: { inbound: { retry: three } }
                """);
}

/// <summary>docs/dapr-subset.md §10 row 5: bulk publish (§2.1, §2.3, §12) and bulk subscribe (§4.3).</summary>
[Trait("Category", "Conformance")]
public sealed class BulkTests(BulkRig rig) : IClassFixture<BulkRig>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task BulkPublishEvent_Sdk_EveryEntryStoredAndDelivered()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("plain");
        var res = await rig.Client.BulkPublishEventAsync("bus", topic, new[] { new { key = "bp-0" }, new { key = "bp-1" }, new { key = "bp-2" } }, cancellationToken: ct);
        Assert.Empty(res.FailedEntries);

        var r = await rig.WaitAsync(topic, x => x.Messages.Count(m => m.Key.StartsWith("bp-", StringComparison.Ordinal)) >= 3, Wait, ct);
        var got = r.Messages.Where(m => m.Key.StartsWith("bp-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["bp-0", "bp-1", "bp-2"], got.Select(m => m.Key).Order());
        Assert.Equal(3, got.Select(m => m.CloudEventId).Distinct().Count());
        Assert.All(got, m => Assert.Equal(rig.PublisherAppId, m.RawJson.GetProperty("source").GetString()));
    }

    [Fact]
    public async Task BulkPublishEvent_OneBadEntry_ReportedAsFailedEntryWithStatusOk()
    {
        var ct = TestContext.Current.CancellationToken;
        using var channel = GrpcChannel.ForAddress(rig.Publisher.GrpcEndpoint);
        var client = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);
        var request = Request(rig.T("plain"), ("good", "{\"key\":\"bad-batch-good\"}", "application/json"), ("bad", "not a cloud event", "application/cloudevents+json"));

        var res = await client.BulkPublishEventAsync(request, cancellationToken: ct);
        var failed = Assert.Single(res.FailedEntries);
        Assert.Equal("bad", failed.EntryId);
        Assert.False(string.IsNullOrEmpty(failed.Error));

        // The Alpha1 method (the SDK's fallback) is the same operation.
#pragma warning disable CS0612 // The obsolete Alpha1 method is exactly what the SDK falls back to.
        var alpha = await client.BulkPublishEventAlpha1Async(Request(rig.T("plain"), ("a", "{\"key\":\"alpha-1\"}", "application/json")), cancellationToken: ct);
#pragma warning restore CS0612
        Assert.Empty(alpha.FailedEntries);
        var r = await rig.WaitAsync(rig.T("plain"), x => x.Messages.Any(m => m.Key == "alpha-1") && x.Messages.Any(m => m.Key == "bad-batch-good"), Wait, ct);
        Assert.Contains(r.Messages, m => m.Key == "alpha-1");
    }

    [Fact]
    public async Task BulkPublishEvent_DuplicateOrEmptyEntryId_InvalidArgument()
    {
        var ct = TestContext.Current.CancellationToken;
        using var channel = GrpcChannel.ForAddress(rig.Publisher.GrpcEndpoint);
        var client = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);

        var dup = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.BulkPublishEventAsync(Request(rig.T("plain"), ("1", "{}", "application/json"), ("1", "{}", "application/json")), cancellationToken: ct));
        Assert.Equal(StatusCode.InvalidArgument, dup.StatusCode);
        var empty = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.BulkPublishEventAsync(Request(rig.T("plain"), ("", "{}", "application/json")), cancellationToken: ct));
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.BulkPublishEventAsync(new BulkPublishRequest { PubsubName = "nope", Topic = "t" }, cancellationToken: ct));
        Assert.Equal(StatusCode.InvalidArgument, unknown.StatusCode);
    }

    [Fact]
    public async Task HttpBulkPublish_AllGood204_PartialFailure500WithFailedEntries()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient();
        var topic = rig.T("plain");
        var good = """[{"entryId":"1","event":{"key":"hb-1"},"contentType":"application/json"},{"entryId":"2","event":"text body","contentType":"text/plain"}]""";
        using var ok = await http.PostAsync(new Uri($"{rig.Publisher.HttpEndpoint}/v1.0-alpha1/publish/bulk/bus/{topic}"), new StringContent(good, Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);

        var partial = """[{"entryId":"a","event":{"key":"hb-2"},"contentType":"application/json"},{"entryId":"b","event":"nope","contentType":"application/cloudevents+json"}]""";
        using var bad = await http.PostAsync(new Uri($"{rig.Publisher.HttpEndpoint}/v1.0/publish/bulk/bus/{topic}"), new StringContent(partial, Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.InternalServerError, bad.StatusCode);
        using var body = JsonDocument.Parse(await bad.Content.ReadAsStringAsync(ct));
        var failed = Assert.Single(body.RootElement.GetProperty("failedEntries").EnumerateArray());
        Assert.Equal("b", failed.GetProperty("entryId").GetString());

        // Deliveries run concurrently: wait for all three, whatever their order (CI once saw both hb-* before the text entry).
        static bool IsText(PubSubRig.Message m) => m.RawJson.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.String && d.GetString() == "text body";
        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "hb-1") && x.Messages.Any(m => m.Key == "hb-2") && x.Messages.Any(IsText), Wait, ct);
        Assert.Contains(r.Messages, m => m.Key == "hb-1");
        Assert.Contains(r.Messages, m => m.Key == "hb-2");
        Assert.Contains(r.Messages, IsText);
    }

    [Fact]
    public async Task BulkSubscribe_MaxMessagesCount_BatchesNeverExceedIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("size");
        var res = await rig.Client.BulkPublishEventAsync("bus", topic, Enumerable.Range(0, 25).Select(i => new { key = $"size-{i}" }).ToList(), cancellationToken: ct);
        Assert.Empty(res.FailedEntries);

        var r = await rig.WaitAsync(topic, x => x.Messages.Select(m => m.Key).Distinct().Count() >= 25, Wait, ct);
        Assert.Equal(25, r.Messages.Select(m => m.Key).Distinct().Count());
        Assert.All(r.Messages, m => Assert.True(m.Bulk));
        Assert.All(r.Batches, b => Assert.InRange(b.Count, 1, 10));
        Assert.Contains(r.Batches, b => b.Count == 10);
        var entry = JsonDocument.Parse(r.Messages[0].RawBody).RootElement;
        Assert.Equal("application/cloudevents+json", entry.GetProperty("contentType").GetString());
        Assert.Equal(topic, entry.GetProperty("event").GetProperty("topic").GetString());
    }

    [Fact]
    public async Task BulkSubscribe_FewerMessagesThanMax_FlushedAfterMaxAwaitDuration()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("wait");
        var started = DateTimeOffset.UtcNow;
        var res = await rig.Client.BulkPublishEventAsync("bus", topic, new[] { new { key = "w-1" }, new { key = "w-2" }, new { key = "w-3" } }, cancellationToken: ct);
        Assert.Empty(res.FailedEntries);

        var r = await rig.WaitAsync(topic, x => x.Messages.Count >= 3, Wait, ct);
        Assert.Equal(3, r.Messages.Count);
        var first = r.Batches.OrderBy(b => b.Seq).First();
        Assert.True(first.At - started >= TimeSpan.FromMilliseconds(450), $"the first batch came after {(first.At - started).TotalMilliseconds} ms; maxAwaitDurationMs is 600");
    }

    [Fact]
    public async Task BulkSubscribe_PerEntryStatuses_OnlyFailedEntriesRetriedMissingIsRetryDropIsDeadLettered()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("status");
        var res = await rig.Client.BulkPublishEventAsync(
            "bus",
            topic,
            new[]
            {
                new { key = "st-ok", behavior = "ok" },
                new { key = "st-retry", behavior = "retry-first:1" },
                new { key = "st-drop", behavior = "drop" },
                new { key = "st-missing", behavior = "missing-first:1" },
            },
            cancellationToken: ct);
        Assert.Empty(res.FailedEntries);

        var r = await rig.WaitAsync(topic, x => x.Messages.Count(m => m.Handled) >= 3, Wait, ct);
        int Attempts(string key) => r.Messages.Count(m => m.Key == key);
        Assert.Equal(1, Attempts("st-ok"));
        Assert.Equal(2, Attempts("st-retry"));
        Assert.Equal(2, Attempts("st-missing"));
        Assert.Equal(1, Attempts("st-drop"));
        var dead = await rig.WaitAsync(rig.T("status-dead"), x => x.Messages.Any(m => m.Key == "st-drop"), Wait, ct);
        Assert.Single(dead.Messages);
    }

    [Fact]
    public async Task BulkSubscribe_NonJsonAnswer_EveryEntryRetried()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("nonjson");
        var res = await rig.Client.BulkPublishEventAsync(
            "bus", topic, new[] { new { key = "nj-bad", behavior = "nonjson-first:1" }, new { key = "nj-good", behavior = "ok" } }, cancellationToken: ct);
        Assert.Empty(res.FailedEntries);

        var r = await rig.WaitAsync(topic, x => x.Messages.Count(m => m.Handled) >= 2, Wait, ct);
        Assert.Equal(2, r.Messages.Count(m => m.Key == "nj-good"));
        Assert.Equal(2, r.Messages.Count(m => m.Key == "nj-bad"));
        Assert.Equal("nonjson", r.Batches.OrderBy(b => b.Seq).First().Answer);
    }

    private static BulkPublishRequest Request(string topic, params (string Id, string Event, string ContentType)[] entries)
    {
        var r = new BulkPublishRequest { PubsubName = "bus", Topic = topic };
        r.Entries.AddRange(entries.Select(e => new BulkPublishRequestEntry { EntryId = e.Id, Event = ByteString.CopyFromUtf8(e.Event), ContentType = e.ContentType }));
        return r;
    }
}
