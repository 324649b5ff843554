using System.Text;
using System.Text.Json;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.PubSub;

namespace FanVote.Sidecar.Tests.PubSub;

public sealed class PubSubUnitTests
{
    private static readonly DateTimeOffset Now = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly PublishContext Ctx = new("voter", "bus", "votes", "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01", "k=v", Now);

    private static JsonElement Build(string data, string? contentType, Dictionary<string, string>? meta = null)
    {
        var (bytes, _) = CloudEvents.Build(Encoding.UTF8.GetBytes(data), contentType, meta ?? [], Ctx);
        return JsonDocument.Parse(bytes).RootElement;
    }

    [Fact]
    public void Build_Json_KeepsExactNumbersAndSetsEnvelope()
    {
        var ce = Build("{\"a\":1.10,\"b\":12345678901234567890}", "application/json; charset=utf-8");
        Assert.Equal("{\"a\":1.10,\"b\":12345678901234567890}", ce.GetProperty("data").GetRawText());
        Assert.Equal("voter", ce.GetProperty("source").GetString());
        Assert.Equal("2026-05-01T12:00:00Z", ce.GetProperty("time").GetString());
        Assert.Equal("k=v", ce.GetProperty("tracestate").GetString());
        Assert.StartsWith("00-0123456789abcdef0123456789abcdef-", ce.GetProperty("traceparent").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(Ctx.TraceParent, ce.GetProperty("traceparent").GetString());
    }

    [Theory]
    [InlineData("not json", "application/json", "\"not json\"")]
    [InlineData("hello", "text/plain", "\"hello\"")]
    [InlineData("hello", "", "\"hello\"")]
    public void Build_NonJsonData_IsString(string data, string contentType, string expected)
    {
        var ce = Build(data, contentType);
        Assert.Equal(expected, ce.GetProperty("data").GetRawText());
        Assert.Equal(contentType.Length == 0 ? "text/plain" : contentType, ce.GetProperty("datacontenttype").GetString());
    }

    [Fact]
    public void Build_TtlAndOverrides_ExpirationAndCloudEventFields()
    {
        var ce = Build("{}", "application/json", new() { ["ttlInSeconds"] = "30", ["cloudevent.id"] = "x1", ["cloudevent.traceparent"] = "00-aa-bb-01" });
        Assert.Equal("2026-05-01T12:00:30Z", ce.GetProperty("expiration").GetString());
        Assert.Equal("x1", ce.GetProperty("id").GetString());
        Assert.Equal("00-aa-bb-01", ce.GetProperty("traceid").GetString());
        Assert.Throws<CloudEventException>(() => Build("{}", "application/json", new() { ["ttlInSeconds"] = "soon" }));
    }

    [Fact]
    public void Build_CloudEventPassthrough_OverwritesTopicKeepsOwnFields()
    {
        var ce = Build("{\"type\":\"t\",\"topic\":\"old\",\"data\":{\"x\":1}}", "application/cloudevents+json");
        Assert.Equal("t", ce.GetProperty("type").GetString());
        Assert.Equal("votes", ce.GetProperty("topic").GetString());
        Assert.Equal("Dapr", ce.GetProperty("source").GetString());
        Assert.False(ce.TryGetProperty("id", out _));
        Assert.Throws<CloudEventException>(() => Build("[1]", "application/cloudevents+json"));
    }

    [Fact]
    public void Build_RawPayload_BytesUntouchedTraceInMetadata()
    {
        var (bytes, meta) = CloudEvents.Build("raw!"u8, "text/plain", new Dictionary<string, string> { ["rawPayload"] = "true" }, Ctx);
        Assert.Equal("raw!", Encoding.UTF8.GetString(bytes));
        Assert.StartsWith("00-0123456789abcdef0123456789abcdef-", meta["traceid"], StringComparison.Ordinal);
        Assert.Equal("true", meta["rawPayload"]);
    }

    [Fact]
    public void IsExpired_PastExpiration_True()
    {
        using var doc = JsonDocument.Parse("{\"expiration\":\"2026-05-01T11:59:59Z\"}");
        Assert.True(CloudEvents.IsExpired(doc.RootElement, Now));
        Assert.False(CloudEvents.IsExpired(doc.RootElement, Now.AddHours(-1)));
    }

    [Theory]
    [InlineData("event.type == \"a\"", true)]
    [InlineData("event.type != 'a'", false)]
    [InlineData("event.type == \"b\" || event.data.n == 3", true)]
    [InlineData("event.type == \"a\" && event.data.n == 4", false)]
    [InlineData("(event.type == \"a\") && event.data.ok == true", true)]
    [InlineData("event.missing == \"a\"", false)]
    [InlineData("", true)]
    public void RouteExpression_Subset_Evaluates(string expr, bool expected)
    {
        using var doc = JsonDocument.Parse("{\"type\":\"a\",\"data\":{\"n\":3,\"ok\":true}}");
        Assert.Equal(expected, RouteExpression.Parse(expr).Matches(doc.RootElement));
    }

    [Theory]
    [InlineData("event.type.startsWith(\"a\")")]
    [InlineData("event.type in [\"a\"]")]
    [InlineData("event.n > 3")]
    [InlineData("has(event.type)")]
    [InlineData("event.type = \"a\"")]
    public void RouteExpression_OutsideSubset_Rejected(string expr) =>
        Assert.Throws<FormatException>(() => RouteExpression.Parse(expr));

    [Fact]
    public void Compile_UnsupportedRule_ResourceExceptionNamesSubscription()
    {
        var spec = new SubscriptionSpec("bus", "votes", [new RouteRule("size(event.data) > 1", "x")], null, null, new Dictionary<string, string>(), [], "subs.yaml");
        var e = Assert.Throws<ResourceException>(() => CompiledSubscription.Compile(spec));
        Assert.Contains("bus/votes (subs.yaml)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseProgrammatic_SdkShape_CaseInsensitiveRulesDefaultAndBulk()
    {
        var json = """
            [{"pubsubName":"bus","topic":"votes","route":"ignored",
              "routes":{"rules":[{"match":"event.type == \"a\"","path":"votes/a"}],"default":"votes"},
              "metadata":{"rawPayload":"true"},"deadLetterTopic":"dlq",
              "bulkSubscribe":{"enabled":true,"maxMessagesCount":50,"maxAwaitDurationMs":200}},
             {"PUBSUBNAME":"bus","TOPIC":"other","ROUTE":"other"}]
            """;
        var subs = SubscriptionParser.ParseProgrammatic(Encoding.UTF8.GetBytes(json));
        Assert.Equal(2, subs.Count);
        var s = subs[0];
        Assert.Equal([("event.type == \"a\"", "votes/a"), ("", "votes")], s.Rules.Select(r => (r.Match, r.Path)));
        Assert.True(s.RawPayload);
        Assert.Equal("dlq", s.DeadLetterTopic);
        Assert.Equal(new BulkSubscribeSpec(true, 50, 200), s.BulkSubscribe);
        Assert.Equal(("bus", "other", "other"), (subs[1].PubsubName, subs[1].Topic, subs[1].Rules.Single().Path));
    }

    [Theory]
    [InlineData("{\"status\":\"SUCCESS\"}", "SUCCESS")]
    [InlineData("{\"status\":\"retry\"}", "RETRY")]
    [InlineData("not json", null)]
    [InlineData("", null)]
    [InlineData("[1,2]", null)]
    public void AppStatus_Body_ParsedLikeDaprd(string body, string? expected) =>
        Assert.Equal(expected, SubscriptionDelivery.AppStatus(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Scopes_AllowedProtectedAndPublishingScopes()
    {
        var spec = new ComponentSpec("bus", "pubsub.redis", "v1", new Dictionary<string, string>
        {
            ["allowedTopics"] = "a,b,c",
            ["protectedTopics"] = "c",
            ["publishingScopes"] = "app1=a,c;app2=b",
        }, [], false, "x.yaml");
        Assert.True(PubSubScopes.IsAllowed(spec, "app1", "c", "publishingScopes"));
        Assert.False(PubSubScopes.IsAllowed(spec, "app1", "b", "publishingScopes"));
        Assert.False(PubSubScopes.IsAllowed(spec, "app3", "c", "publishingScopes"));
        Assert.True(PubSubScopes.IsAllowed(spec, "app3", "a", "publishingScopes"));
        Assert.False(PubSubScopes.IsAllowed(spec, "app3", "z", "publishingScopes"));
    }

    [Fact]
    public void RedisSettings_NumbersAreMillisecondsRedeliverIntervalIgnoresDurations()
    {
        var spec = new ComponentSpec("bus", "pubsub.redis", "v1", new Dictionary<string, string>
        {
            ["processingTimeout"] = "30s",
            ["redeliverInterval"] = "30s",
            ["concurrency"] = "7",
        }, [], false, "x.yaml");
        var s = RedisStreamsSettings.From(spec);
        Assert.Equal(TimeSpan.FromSeconds(30), s.ProcessingTimeout);
        Assert.Equal(TimeSpan.FromSeconds(15), s.RedeliverInterval);
        Assert.Equal(7, s.Concurrency);
        Assert.Equal(100, s.QueueDepth);
        var ms = RedisStreamsSettings.From(spec with { Metadata = new Dictionary<string, string> { ["processingTimeout"] = "1500", ["redeliverInterval"] = "250" } });
        Assert.Equal(TimeSpan.FromMilliseconds(1500), ms.ProcessingTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), ms.RedeliverInterval);
    }

    [Fact]
    public void ExpandConsumerId_AppIdAndUuid()
    {
        Assert.Equal("tally-x", SubscriptionManager.ExpandConsumerId("{appID}-x", "tally"));
        Assert.Matches("^g-[0-9a-f-]{36}$", SubscriptionManager.ExpandConsumerId("g-{uuid}", "tally"));
    }
}

public sealed class EnvelopeScanTests
{
    [Fact]
    public void ScanEnvelope_ReadsIdAndExpiration_SkippingData()
    {
        var json = """{"data":{"id":"inner","expiration":"x"},"id":"outer","expiration":"2026-05-01T12:00:00Z","type":"t"}"""u8;

        var (id, expiration) = CloudEvents.ScanEnvelope(json);

        Assert.Equal("outer", id);
        Assert.Equal("2026-05-01T12:00:00Z", expiration);
        Assert.True(CloudEvents.IsExpired(expiration, new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero)));
        Assert.False(CloudEvents.IsExpired(expiration, new DateTimeOffset(2026, 5, 1, 11, 59, 59, TimeSpan.Zero)));
    }

    [Fact]
    public void ScanEnvelope_NoIdNoExpiration_ReturnsNulls() =>
        Assert.Equal((null, null), CloudEvents.ScanEnvelope("""{"id":5,"data":"x"}"""u8));

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"id\":\"a\"")]
    [InlineData("{\"id\":\"a\"} {\"id\":\"b\"}")]
    [InlineData("not json")]
    public void ScanEnvelope_NotOneJsonObject_Throws(string json) =>
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => CloudEvents.ScanEnvelope(Encoding.UTF8.GetBytes(json)));
}
