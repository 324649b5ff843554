using System.Net.Http.Json;
using System.Text.Json;
using Dapr.Client;
using FanVote.Testing;
using StackExchange.Redis;

namespace FanVote.Sidecar.ConformanceTests.PubSub;

/// <summary>One subscription the TestSubscriber app declares through MapSubscribeHandler.</summary>
public sealed record TopicSpec(
    string Pubsub,
    string Topic,
    string? Route,
    bool RawPayload = false,
    string? DeadLetterTopic = null,
    bool Bulk = false,
    int MaxMessagesCount = 100,
    int MaxAwaitDurationMs = 1000)
{
    public IReadOnlyList<RuleSpec> Rules { get; init; } = [];

    /// <summary>Overrides the per-message behavior (dead-letter topics answer "ok").</summary>
    public string? Behavior { get; init; }
}

public sealed record RuleSpec(string Match, string Route, int Priority);

/// <summary>
/// The pub/sub test topology: a publisher sidecar (no app) and a subscriber sidecar in front of the
/// TestSubscriber app, sharing one resources folder. Topic names get a per-rig suffix so runs never share
/// streams or consumer groups on the shared Redis.
/// </summary>
public abstract class PubSubRig : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly ResourceFolder _resources = new();

    protected PubSubRig()
    {
        Id = Guid.NewGuid().ToString("N")[..8];
    }

    public string Id { get; }

    public SidecarHost Publisher { get; private set; } = null!;

    public SidecarHost Subscriber { get; private set; } = null!;

    public ManagedProcess App { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    public HttpClient AppHttp { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    public string PublisherAppId => "pub-" + Id;

    public string SubscriberAppId => "sub-" + Id;

    public string T(string name) => $"{name}-{Id}";

    public static string RedisComponent(string name, string extraMetadata = "") => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: {name}
        spec:
          type: pubsub.redis
          version: v1
          metadata:
          - name: redisHost
            value: "{TestEnvironment.Redis}"
        {extraMetadata}
        """;

    /// <summary>Extra environment for the subscriber's sidecar (e.g. APP_API_TOKEN).</summary>
    protected virtual IReadOnlyDictionary<string, string?>? SubscriberSidecarEnvironment => null;

    public static string Meta(string name, string value) => $"  - name: {name}\n    value: \"{value}\"\n";

    public async ValueTask InitializeAsync()
    {
        Configure(_resources);
        Redis = await TestRedis.ConnectAsync(TestEnvironment.Redis);
        var appPort = Ports.Free();
        var env = new Dictionary<string, string?>
        {
            ["TESTSUB_TOPICS"] = JsonSerializer.Serialize(Topics().ToList(), Web),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        App = ManagedProcess.Dotnet("testsub-" + Id, TestEnvironment.ProjectDll("FanVote.Sidecar.TestSubscriber"), ["--urls", $"http://127.0.0.1:{appPort}"], env).Start();
        AppHttp.BaseAddress = new Uri($"http://127.0.0.1:{appPort}");
        Subscriber = new SidecarHost(SubscriberAppId, _resources.Path, appPort, env: SubscriberSidecarEnvironment);
        Publisher = new SidecarHost(PublisherAppId, _resources.Path);
        await Task.WhenAll(Subscriber.StartAsync(), Publisher.StartAsync());
        Client = new DaprClientBuilder().UseGrpcEndpoint(Publisher.GrpcEndpoint).UseHttpEndpoint(Publisher.HttpEndpoint).Build();
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Publisher is not null)
        {
            await Publisher.DisposeAsync();
        }

        if (Subscriber is not null)
        {
            await Subscriber.DisposeAsync();
        }

        if (App is not null)
        {
            await App.DisposeAsync();
        }

        if (Redis is not null)
        {
            var db = Redis.GetDatabase();
            foreach (var t in Topics())
            {
                await db.KeyDeleteAsync(t.Topic);
                if (t.DeadLetterTopic is not null)
                {
                    await db.KeyDeleteAsync(t.DeadLetterTopic);
                }
            }

            await Redis.DisposeAsync();
        }

        AppHttp.Dispose();
        _resources.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Everything the TestSubscriber recorded for <paramref name="topic"/>.</summary>
    public async Task<Received> ReceivedAsync(string topic, CancellationToken ct) =>
        (await AppHttp.GetFromJsonAsync<Received>($"/received?topic={Uri.EscapeDataString(topic)}", Web, ct))!;

    public async Task<Summary> SummaryAsync(string topic, CancellationToken ct) =>
        (await AppHttp.GetFromJsonAsync<Summary>($"/summary?topic={Uri.EscapeDataString(topic)}", Web, ct))!;

    /// <summary>Polls the subscriber's record until <paramref name="done"/> holds or the deadline passes (then returns the last state).</summary>
    public async Task<Received> WaitAsync(string topic, Func<Received, bool> done, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var r = await ReceivedAsync(topic, ct);
            if (done(r) || DateTime.UtcNow > deadline)
            {
                return r;
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>Entries of the consumer group still waiting for XACK.</summary>
    public async Task<long> PendingAsync(string topic)
    {
        var info = await Redis.GetDatabase().StreamPendingAsync(topic, SubscriberAppId);
        return info.PendingMessageCount;
    }

    protected abstract IEnumerable<TopicSpec> Topics();

    protected abstract void Configure(ResourceFolder resources);

    public sealed record Received(List<Message> Messages, List<Batch> Batches);

    public sealed record Message(
        long Seq,
        string Topic,
        string Route,
        string Key,
        string? CloudEventId,
        string Body,
        string RawBody,
        string ContentType,
        string RawContentType,
        Dictionary<string, string> Headers,
        int Attempt,
        string Answer,
        bool Handled,
        bool Bulk,
        DateTimeOffset At)
    {
        public JsonElement RawJson => JsonDocument.Parse(RawBody).RootElement;

        public string? Header(string name) =>
            Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
    }

    public sealed record Batch(long Seq, string Topic, string Route, int Count, string Answer, DateTimeOffset At);

    public sealed record Summary(Dictionary<string, int> Attempts, List<string> Handled);
}
