using FanVote.Sidecar.Api;
using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.Tests.Components;

public sealed class ResourceLoaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fv-yaml-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Dictionary<string, string> _env = new(StringComparer.Ordinal) { ["PG_CONN"] = "Host=db;Username=u" };

    public ResourceLoaderTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The examples of docs/dapr-subset.md §8.1–8.3, as one would write them in components/.
    private const string ComponentsYaml = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: vote-bus
        spec:
          type: pubsub.redis
          version: v1
          metadata:
          - { name: redisHost, value: "localhost:6379" }
          - { name: redisPassword, value: "" }
          - { name: concurrency, value: "100" }
          - { name: processingTimeout, value: "60s" }
          - { name: redeliverInterval, value: "15000" }
          - { name: maxLenApprox, value: "1000000" }
        scopes: [ingress, tally, fraud, results, rewards, orchestrator]
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: fanvote-state
        spec:
          type: state.postgresql
          version: v2
          metadata:
          - name: connectionString
            secretKeyRef: { name: PG_CONN, key: PG_CONN }
          - { name: tablePrefix, value: "fanvote_" }
          - { name: actorStateStore, value: "true" }
          - { name: keyPrefix, value: "appid" }
        auth:
          secretStore: local-secrets
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: local-secrets
        spec:
          type: secretstores.local.env
          version: v1
        """;

    private const string ResiliencyYaml = """
        apiVersion: dapr.io/v1alpha1
        kind: Resiliency
        metadata: { name: fanvote }
        scopes: [tally, fraud, results, rewards, orchestrator]
        spec:
          policies:
            timeouts:  { handler: 30s }
            retries:
              deliver:  { policy: exponential, maxInterval: 15s, maxRetries: -1 }
              bounded:  { policy: constant, duration: 1s, maxRetries: 10,
                          matching: { httpStatusCodes: "429,500-599", gRPCStatusCodes: "1-4,8-11,13,14" } }
            circuitBreakers:
              store: { maxRequests: 1, interval: 8s, timeout: 45s, trip: consecutiveFailures >= 5 }
          targets:
            apps:       { someAppId: { timeout: handler, retry: bounded, circuitBreaker: store } }
            actors:     { WindowActor: { timeout: handler, retry: bounded, circuitBreakerScope: both } }
            components:
              vote-bus:      { inbound: { retry: deliver, timeout: handler }, outbound: { retry: bounded } }
              fanvote-state: { outbound: { retry: bounded, circuitBreaker: store } }
        """;

    private const string SubscriptionYaml = """
        apiVersion: dapr.io/v2alpha1
        kind: Subscription
        metadata: { name: votes-tally }
        spec:
          pubsubname: vote-bus
          topic: votes
          routes:
            rules: [ { match: 'event.type == "vote.v2"', path: /votes/v2 } ]
            default: /votes
          deadLetterTopic: votes-dlq
          bulkSubscribe: { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 200 }
          metadata: { rawPayload: "false" }
        scopes: [tally]
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Subscription
        metadata: { name: old-style }
        spec:
          pubsubname: vote-bus
          topic: window-events
          route: /window-events
        """;

    private ResourceSet Load(string appId, string? config = null) =>
        ResourceLoader.Load([_dir], appId, config, n => _env.TryGetValue(n, out var v) ? v : null);

    private void Write(string name, string yaml) => File.WriteAllText(Path.Combine(_dir, name), yaml);

    [Fact]
    public void Load_SpecExamples_ParseWithTheirValues()
    {
        Write("components.yaml", ComponentsYaml);
        Write("resiliency.yaml", ResiliencyYaml);
        Write("subscriptions.yml", SubscriptionYaml);

        var set = Load("tally");

        var bus = Assert.Single(set.Components, c => c.Name == "vote-bus");
        Assert.Equal("pubsub.redis", bus.Type);
        Assert.Equal("15000", bus.Get("redeliverInterval"));
        var state = Assert.Single(set.Components, c => c.Name == "fanvote-state");
        Assert.Equal("v2", state.Version);
        Assert.Equal("Host=db;Username=u", state.Get("connectionString"));
        Assert.True(state.GetBool("actorStateStore"));

        var res = Assert.Single(set.Resiliencies);
        Assert.Equal(TimeSpan.FromSeconds(30), res.Timeouts["handler"]);
        Assert.Equal(-1, res.Retries["deliver"].MaxRetries);
        Assert.Equal("exponential", res.Retries["deliver"].Policy);
        var bounded = res.Retries["bounded"];
        Assert.True(bounded.Matching!.MatchesHttp(503));
        Assert.False(bounded.Matching.MatchesHttp(404));
        Assert.True(bounded.Matching.MatchesGrpc(14));
        Assert.False(bounded.Matching.MatchesGrpc(5));
        Assert.Equal("deliver", res.Components["vote-bus"].Inbound!.Retry);
        Assert.Equal("store", res.Components["fanvote-state"].Outbound!.CircuitBreaker);
        Assert.Equal(TimeSpan.FromSeconds(45), res.CircuitBreakers["store"].Timeout);

        var votes = Assert.Single(set.Subscriptions, s => s.Topic == "votes");
        Assert.Equal([new RouteRule("event.type == \"vote.v2\"", "/votes/v2"), new RouteRule("", "/votes")], votes.Rules);
        Assert.Equal("votes-dlq", votes.DeadLetterTopic);
        Assert.Equal(new BulkSubscribeSpec(true, 100, 200), votes.BulkSubscribe);
        Assert.False(votes.RawPayload);
        var old = Assert.Single(set.Subscriptions, s => s.Topic == "window-events");
        Assert.Equal([new RouteRule("", "/window-events")], old.Rules);
    }

    [Fact]
    public void Load_Scopes_FilterComponentsSubscriptionsAndResiliency()
    {
        Write("components.yaml", ComponentsYaml);
        Write("resiliency.yaml", ResiliencyYaml);
        Write("subscriptions.yaml", SubscriptionYaml);

        var set = Load("ingress");

        Assert.Contains(set.Components, c => c.Name == "vote-bus");
        Assert.Empty(set.Resiliencies); // ingress is not in the resiliency scopes
        Assert.DoesNotContain(set.Subscriptions, s => s.Topic == "votes"); // scoped to tally
        Assert.DoesNotContain(Load("stranger").Components, c => c.Name == "vote-bus");
    }

    [Fact]
    public void Validate_KafkaComponent_NamesTypeFileAndDaprd()
    {
        Write("pubsub.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: vote-bus }
            spec:
              type: pubsub.kafka
              version: v1
              metadata:
              - { name: brokers, value: "kafka:9092" }
              - { name: authType, value: "none" }
            """);

        var e = Assert.Throws<ResourceException>(() => ComponentRegistry.Validate(Load("tally")));

        Assert.Contains("pubsub.kafka", e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_dir, "pubsub.yaml"), e.Message, StringComparison.Ordinal);
        Assert.Contains("daprd", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TwoActorStateStores_IsAnError()
    {
        Write("a.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: s1 }
            spec:
              type: state.in-memory
              version: v1
              metadata: [ { name: actorStateStore, value: "true" } ]
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: s2 }
            spec:
              type: state.in-memory
              version: v1
              metadata: [ { name: actorStateStore, value: "true" } ]
            """);

        var e = Assert.Throws<ResourceException>(() => ComponentRegistry.Validate(Load("x")));
        Assert.Contains("more than one actor state store", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingSecret_SaysWhichVariableToSet()
    {
        _env.Clear();
        Write("components.yaml", ComponentsYaml);

        var e = Assert.Throws<ResourceException>(() => Load("tally"));

        Assert.Contains("PG_CONN", e.Message, StringComparison.Ordinal);
    }

    private const string FileSecretsYaml = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata: { name: vote-bus }
        spec:
          type: pubsub.redis
          version: v1
          metadata:
          - name: redisHost
            secretKeyRef: { name: fanvote-redis, key: host }
          - name: redisPassword
            secretKeyRef: { name: fanvote-redis, key: password }
          - name: consumerID
            secretKeyRef: { name: flat-one }
        auth:
          secretStore: fanvote-secrets
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata: { name: fanvote-secrets }
        spec:
          type: secretstores.local.file
          version: v1
          metadata:
          - name: secretsFile
            envRef: SECRETS_FILE
          - name: multiValued
            value: "true"
        """;

    private string WriteSecretsFile(string json)
    {
        var path = Path.Combine(_dir, "..", Path.GetFileName(_dir) + "-secrets.json");
        File.WriteAllText(path, json);
        _env["SECRETS_FILE"] = path;
        return path;
    }

    [Fact]
    public void Load_LocalFileStoreMultiValued_ResolvesNameAndKeyLikeAKubernetesSecret()
    {
        var secrets = WriteSecretsFile("""{"fanvote-redis": {"host": "10.0.0.7:6380", "password": "s3cret"}, "flat-one": "tally-group"}""");
        Write("pubsub.yaml", FileSecretsYaml);
        try
        {
            var bus = Assert.Single(Load("tally").Components, c => c.Name == "vote-bus");

            Assert.Equal("10.0.0.7:6380", bus.Get("redisHost"));
            Assert.Equal("s3cret", bus.Get("redisPassword"));
            Assert.Equal("tally-group", bus.Get("consumerID")); // no key: the entry under the secret's own name
        }
        finally
        {
            File.Delete(secrets);
        }
    }

    [Fact]
    public void Load_LocalFileStoreMissingKey_NamesSecretKeyAndWhatExists()
    {
        var secrets = WriteSecretsFile("""{"fanvote-redis": {"host": "10.0.0.7:6380"}, "flat-one": "x"}""");
        Write("pubsub.yaml", FileSecretsYaml);
        try
        {
            var e = Assert.Throws<ResourceException>(() => Load("tally"));

            Assert.Contains("'fanvote-redis'", e.Message, StringComparison.Ordinal);
            Assert.Contains("no key 'password'", e.Message, StringComparison.Ordinal);
            Assert.Contains("it has: host", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(secrets);
        }
    }

    [Fact]
    public void Load_LocalFileStoreSingleValued_FlattensWithTheSeparator()
    {
        var secrets = WriteSecretsFile("""{"fanvote-redis": {"host": "h:1", "password": "p"}, "flat-one": "g"}""");
        Write("pubsub.yaml", FileSecretsYaml
            .Replace("{ name: fanvote-redis, key: host }", "{ name: \"fanvote-redis:host\" }", StringComparison.Ordinal)
            .Replace("{ name: fanvote-redis, key: password }", "{ name: \"fanvote-redis:password\" }", StringComparison.Ordinal)
            .Replace("value: \"true\"", "value: \"false\"", StringComparison.Ordinal));
        try
        {
            var bus = Assert.Single(Load("tally").Components, c => c.Name == "vote-bus");

            Assert.Equal("h:1", bus.Get("redisHost"));
            Assert.Equal("p", bus.Get("redisPassword"));
        }
        finally
        {
            File.Delete(secrets);
        }
    }

    [Fact]
    public void Load_LocalEnvStoreWithAnotherKey_FailsAsDaprdWould()
    {
        // secretstores.local.env answers a map holding only the secret's own name: any other key is missing in daprd.
        Write("components.yaml", ComponentsYaml.Replace("{ name: PG_CONN, key: PG_CONN }", "{ name: PG_CONN, key: connectionString }", StringComparison.Ordinal));

        var e = Assert.Throws<ResourceException>(() => Load("tally"));

        Assert.Contains("no key 'connectionString'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnsupportedTypeWithUnresolvableSecrets_ReportsTheTypeFirst()
    {
        _env.Clear();
        Write("pubsub.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: vote-bus }
            spec:
              type: pubsub.kafka
              version: v1
              metadata:
              - name: brokers
                secretKeyRef: { name: fanvote-kafka, key: brokers }
            auth:
              secretStore: fanvote-secrets
            """);

        var e = Assert.Throws<ResourceException>(() => Load("tally"));

        Assert.Contains("pubsub.kafka", e.Message, StringComparison.Ordinal);
        Assert.Contains("daprd", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ResiliencyTargetNamingUndefinedPolicy_IsAnError()
    {
        Write("r.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata: { name: r }
            spec:
              policies:
                retries: { a: { policy: constant, duration: 1s } }
              targets:
                components:
                  vote-bus: { inbound: { retry: nope } }
            """);

        var e = Assert.Throws<ResourceException>(() => Load("x"));
        Assert.Contains("'nope'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DuplicateComponentName_IsAnError()
    {
        Write("a.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: s }\nspec: { type: state.in-memory, version: v1 }\n");
        Write("b.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: s }\nspec: { type: state.in-memory, version: v1 }\n");

        Assert.Throws<ResourceException>(() => Load("x"));
    }

    [Fact]
    public void Load_ConfigurationFile_ReadsSamplingRate()
    {
        var cfg = Path.Combine(_dir, "..", Path.GetFileName(_dir) + "-config.yaml");
        File.WriteAllText(cfg, "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: { name: c }\nspec:\n  tracing: { samplingRate: \"0.5\" }\n");
        try
        {
            Assert.Equal(0.5, Load("x", cfg).Configuration!.TracingSamplingRate);
        }
        finally
        {
            File.Delete(cfg);
        }
    }

    [Fact]
    public void Load_InvalidYaml_NamesFileAndLine()
    {
        Write("bad.yaml", "kind: Component\nmetadata: [unclosed\n");

        var e = Assert.Throws<ResourceException>(() => Load("x"));
        Assert.Contains("bad.yaml", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("//v1.0/actors/T/1/method/M", "/v1.0/actors/T/1/method/M")]
    [InlineData("/v1.0/state/s/", "/v1.0/state/s")]
    [InlineData("/v1.0/./state/../state/k", "/v1.0/state/k")]
    [InlineData("/", "/")]
    public void CleanPath_BehavesLikeGoPathClean(string input, string expected) =>
        Assert.Equal(expected, SidecarHttpPipeline.CleanPath(input));
}
