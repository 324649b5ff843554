using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapr;
using Dapr.Client;
using FanVote.Testing;
using Grpc.Core;

namespace FanVote.Sidecar.ConformanceTests.PubSub;

public sealed class EnvelopeRig : PubSubRig
{
    protected override IEnumerable<TopicSpec> Topics() =>
    [
        new("bus", T("env"), "env"),
        new("bus", T("raw"), "raw", RawPayload: true),
        new("bus", T("octet"), "octet"),
        new("bus", T("cepass"), "cepass"),
        new("bus", T("http"), "http"),
        new("mem", T("mem"), "mem"),
    ];

    protected override void Configure(ResourceFolder resources) =>
        resources
            .With("bus.yaml", RedisComponent("bus"))
            .With("mem.yaml", """
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata:
                  name: mem
                spec:
                  type: pubsub.in-memory
                  version: v1
                """);
}

/// <summary>docs/dapr-subset.md §10 row 3: what the subscriber receives and what is stored, for each publish flavour (§5).</summary>
[Trait("Category", "Conformance")]
public sealed partial class PublishEnvelopeTests(EnvelopeRig rig) : IClassFixture<EnvelopeRig>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task PublishEvent_Object_SubscriberGetsDataAndDaprEnvelope()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("env");
        var before = DateTimeOffset.UtcNow.AddSeconds(-2);
        await rig.Client.PublishEventAsync("bus", topic, new { key = "env-1", amount = 12.50m }, ct);

        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "env-1"), Wait, ct);
        var m = Assert.Single(r.Messages, m => m.Key == "env-1");
        Assert.Equal("application/cloudevents+json", m.RawContentType);
        using (var data = JsonDocument.Parse(m.Body))
        {
            Assert.Equal("env-1", data.RootElement.GetProperty("key").GetString());
        }

        Assert.Contains("\"amount\":12.50", m.RawBody, StringComparison.Ordinal);
        var ce = m.RawJson;
        Assert.True(Guid.TryParse(ce.GetProperty("id").GetString(), out _));
        Assert.Equal(rig.PublisherAppId, ce.GetProperty("source").GetString());
        Assert.Equal("com.dapr.event.sent", ce.GetProperty("type").GetString());
        Assert.Equal("1.0", ce.GetProperty("specversion").GetString());
        Assert.Equal("application/json", ce.GetProperty("datacontenttype").GetString());
        Assert.Equal(topic, ce.GetProperty("topic").GetString());
        Assert.Equal("bus", ce.GetProperty("pubsubname").GetString());
        Assert.Matches(TraceParent(), ce.GetProperty("traceparent").GetString());
        Assert.Equal(ce.GetProperty("traceparent").GetString(), ce.GetProperty("traceid").GetString());
        var time = DateTimeOffset.Parse(ce.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(time, before, DateTimeOffset.UtcNow.AddSeconds(2));
        Assert.False(ce.TryGetProperty("expiration", out _));
        Assert.Equal("bus", m.Header("pubsubName"));

        // Stored layout (§6.1): stream = topic, field data = the exact bytes delivered, no metadata field.
        var entries = await rig.Redis.GetDatabase().StreamRangeAsync(topic);
        var stored = Assert.Single(entries, e => e["data"].ToString().Contains("\"key\":\"env-1\"", StringComparison.Ordinal)); // the topic "env-<id>" may start "env-1"
        Assert.Equal(m.RawBody, stored["data"].ToString());
        Assert.True(stored["metadata"].IsNull);
    }

    [Fact]
    public async Task PublishEvent_TtlAndOverrides_EnvelopeHasExpirationOverridesAndMetadataHeaders()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("env");
        var metadata = new Dictionary<string, string>
        {
            ["ttlInSeconds"] = "120",
            ["cloudevent.id"] = "my-id-" + rig.Id,
            ["cloudevent.type"] = "vote.v2",
            ["cloudevent.source"] = "urn:test",
            ["cloudevent.subject"] = "window-7",
        };
        await rig.Client.PublishEventAsync("bus", topic, new { key = "env-ttl" }, metadata, ct);

        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "env-ttl"), Wait, ct);
        var m = Assert.Single(r.Messages, m => m.Key == "env-ttl");
        var ce = m.RawJson;
        var expiration = DateTimeOffset.Parse(ce.GetProperty("expiration").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expiration, DateTimeOffset.UtcNow.AddSeconds(100), DateTimeOffset.UtcNow.AddSeconds(125));
        Assert.Equal("my-id-" + rig.Id, ce.GetProperty("id").GetString());
        Assert.Equal("vote.v2", ce.GetProperty("type").GetString());
        Assert.Equal("urn:test", ce.GetProperty("source").GetString());
        Assert.Equal("window-7", ce.GetProperty("subject").GetString());
        Assert.Equal("120", m.Header("ttlInSeconds"));

        var stored = Assert.Single(await rig.Redis.GetDatabase().StreamRangeAsync(topic), e => e["data"].ToString().Contains("env-ttl", StringComparison.Ordinal));
        using var meta = JsonDocument.Parse(stored["metadata"].ToString());
        Assert.Equal("120", meta.RootElement.GetProperty("ttlInSeconds").GetString());
    }

    [Fact]
    public async Task PublishEvent_RawPayloadMetadata_StoredUntouchedAndRawSubscriberGetsExactBytes()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("raw");
        var payload = "{\"key\":\"raw-1\",\"n\":1.0}";
        await rig.Client.PublishByteEventAsync("bus", topic, Encoding.UTF8.GetBytes(payload), "application/json", new Dictionary<string, string> { ["rawPayload"] = "true" }, ct);

        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "raw-1"), Wait, ct);
        var m = Assert.Single(r.Messages, m => m.Key == "raw-1");
        Assert.Equal(payload, m.Body);
        Assert.StartsWith("application/octet-stream", m.ContentType, StringComparison.Ordinal);
        var ce = m.RawJson;
        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes(payload)), ce.GetProperty("data_base64").GetString());
        Assert.Equal("Dapr", ce.GetProperty("source").GetString());
        Assert.Equal(topic, ce.GetProperty("topic").GetString());

        var stored = Assert.Single(await rig.Redis.GetDatabase().StreamRangeAsync(topic), e => e["data"].ToString().Contains("\"key\":\"raw-1\"", StringComparison.Ordinal)); // not "raw-1": the topic "raw-<id>" may start so
        Assert.Equal(payload, stored["data"].ToString());
    }

    [Fact]
    public async Task PublishEvent_ToRawPayloadSubscription_SubscriberGetsStoredEnvelopeBytes()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("raw");
        await rig.Client.PublishEventAsync("bus", topic, new { key = "raw-2" }, ct);

        // The raw subscriber reads the stored CloudEvent as opaque bytes.
        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Body.Contains("\"key\":\"raw-2\"", StringComparison.Ordinal)), Wait, ct);
        var m = Assert.Single(r.Messages, m => m.Body.Contains("\"key\":\"raw-2\"", StringComparison.Ordinal));
        using var inner = JsonDocument.Parse(m.Body);
        Assert.Equal(rig.PublisherAppId, inner.RootElement.GetProperty("source").GetString());
        Assert.Equal("raw-2", inner.RootElement.GetProperty("data").GetProperty("key").GetString());
    }

    [Fact]
    public async Task PublishByteEvent_OctetStream_EnvelopeCarriesDataBase64()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("octet");
        byte[] bytes = [0, 1, 2, 250, 255];
        await rig.Client.PublishByteEventAsync("bus", topic, bytes, "application/octet-stream", new Dictionary<string, string> { ["cloudevent.id"] = "octet-" + rig.Id }, ct);

        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.CloudEventId == "octet-" + rig.Id), Wait, ct);
        var m = Assert.Single(r.Messages, m => m.CloudEventId == "octet-" + rig.Id);
        var ce = m.RawJson;
        Assert.Equal(Convert.ToBase64String(bytes), ce.GetProperty("data_base64").GetString());
        Assert.False(ce.TryGetProperty("data", out _));
        Assert.Equal("application/octet-stream", ce.GetProperty("datacontenttype").GetString());
    }

    [Fact]
    public async Task PublishEvent_CloudEventContentType_PassedThroughWithTopicAndDefaults()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("cepass");
        var ev = new CloudEvent<object>(new { key = "ce-1" }) { Type = "custom.type", Source = new Uri("urn:custom"), Subject = "subj" };
        await rig.Client.PublishEventAsync("bus", topic, ev, ct);

        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "ce-1"), Wait, ct);
        var m = Assert.Single(r.Messages, m => m.Key == "ce-1");
        var ce = m.RawJson;
        Assert.Equal("custom.type", ce.GetProperty("type").GetString());
        Assert.Equal("urn:custom", ce.GetProperty("source").GetString());
        Assert.Equal("subj", ce.GetProperty("subject").GetString());
        Assert.Equal(topic, ce.GetProperty("topic").GetString());
        Assert.Equal("bus", ce.GetProperty("pubsubname").GetString());
        Assert.Equal("1.0", ce.GetProperty("specversion").GetString());
        Assert.True(ce.TryGetProperty("time", out _));
        Assert.Matches(TraceParent(), ce.GetProperty("traceparent").GetString());
        Assert.False(ce.TryGetProperty("id", out _));
    }

    [Fact]
    public async Task PublishEvent_UnknownPubsub_InvalidArgument()
    {
        var ct = TestContext.Current.CancellationToken;
        var e = await Assert.ThrowsAsync<DaprException>(() => rig.Client.PublishEventAsync("nope", rig.T("env"), new { key = "x" }, ct));
        var rpc = Assert.IsType<RpcException>(e.InnerException);
        Assert.Equal(StatusCode.InvalidArgument, rpc.StatusCode);
        Assert.Contains("pubsub nope is not found", rpc.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpPublish_JsonBody_Answers204AndDelivers_UnknownPubsub404()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("http");
        using var http = new HttpClient();
        using var ok = await http.PostAsync(
            new Uri($"{rig.Publisher.HttpEndpoint}/v1.0/publish/bus/{topic}?metadata.cloudevent.type=http.type"),
            new StringContent("{\"key\":\"http-1\"}", Encoding.UTF8, "application/json"),
            ct);
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "http-1"), Wait, ct);
        var m = Assert.Single(r.Messages, m => m.Key == "http-1");
        Assert.Equal("http.type", m.RawJson.GetProperty("type").GetString());

        using var missing = await http.PostAsync(new Uri($"{rig.Publisher.HttpEndpoint}/v1.0/publish/nope/{topic}"), new StringContent("{}", Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("ERR_PUBSUB_NOT_FOUND", await missing.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InMemoryPubSub_PublishThroughSubscriberSidecar_DeliveredInProcess()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("mem");
        using var own = new DaprClientBuilder().UseGrpcEndpoint(rig.Subscriber.GrpcEndpoint).UseHttpEndpoint(rig.Subscriber.HttpEndpoint).Build();
        await own.PublishEventAsync("mem", topic, new { key = "mem-1" }, ct);

        // The publisher sidecar's in-memory bus is a different process: its messages never arrive here.
        await rig.Client.PublishEventAsync("mem", topic, new { key = "mem-other-process" }, ct);
        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "mem-1"), Wait, ct);
        var m = Assert.Single(r.Messages, m => m.Key == "mem-1");
        Assert.Equal(rig.SubscriberAppId, m.RawJson.GetProperty("source").GetString());
        await Task.Delay(300, ct);
        Assert.DoesNotContain((await rig.ReceivedAsync(topic, ct)).Messages, x => x.Key == "mem-other-process");
    }

    [GeneratedRegex("^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")]
    private static partial Regex TraceParent();
}
