using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;

namespace FanVote.Results.Tests;

/// <summary>
/// Results beside its sidecar (at most 8 live streams per client address), plus sidecars playing the tally and the
/// orchestrator to publish to it (pub/sub scopes let each publish only its own topics).
/// </summary>
public sealed class ResultsRig : IAsyncLifetime
{
    private readonly ResourceFolder _resources = ResourceFolder.LocalComponents();

    public RedisServer Redis { get; private set; } = null!;

    public ServiceHost Results { get; private set; } = null!;

    public SidecarHost TallySide { get; private set; } = null!;

    public SidecarHost OrchestratorSide { get; private set; } = null!;

    public DaprClient Tally { get; private set; } = null!;

    public DaprClient Orchestrator { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Results = new ServiceHost(AppIds.Results, "FanVote.Results", _resources.Path, appEnv: new Dictionary<string, string?> { ["Results__MaxStreamsPerClient"] = "8" }, redisHost: Redis.Address);
        TallySide = new SidecarHost(AppIds.Tally, _resources.Path, env: Env(AppIds.Tally));
        OrchestratorSide = new SidecarHost(AppIds.Orchestrator, _resources.Path, env: Env(AppIds.Orchestrator));
        await Task.WhenAll(Results.StartAsync(), TallySide.StartAsync(), OrchestratorSide.StartAsync());
        Tally = Client(TallySide);
        Orchestrator = Client(OrchestratorSide);
        Http.BaseAddress = new Uri(Results.BaseUrl);
    }

    public async Task ScheduleAsync(string window, params string[] candidates) =>
        await Orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.WindowEvents, new WindowScheduled
        {
            EventId = Guid.NewGuid(),
            OccurredAt = DateTimeOffset.UtcNow,
            WindowId = window,
            Title = "Show " + window,
            Candidates = candidates,
            OpensAt = DateTimeOffset.UtcNow,
            ClosesAt = DateTimeOffset.UtcNow.AddHours(1),
            VotesPerAccount = 5,
        }, new Dictionary<string, string> { [EventTypes.MetadataKey] = EventTypes.WindowScheduled });

    public async Task TallyAsync(string window, long seq, params (string Candidate, long Votes)[] counts) =>
        await Tally.PublishEventAsync(ComponentNames.VoteBus, Topics.TallyUpdated, new TallyUpdated
        {
            EventId = Guid.NewGuid(),
            OccurredAt = DateTimeOffset.UtcNow,
            WindowId = window,
            Seq = seq,
            Total = counts.Sum(c => c.Votes),
            Counts = counts.ToDictionary(c => c.Candidate, c => c.Votes),
        });

    /// <summary>Polls the JSON endpoint until <paramref name="done"/> holds for the body.</summary>
    public async Task<System.Text.Json.JsonElement> WaitResultsAsync(string window, Func<System.Text.Json.JsonElement, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            using var r = await Http.GetAsync(new Uri($"/v1/windows/{window}/results", UriKind.Relative));
            if (r.IsSuccessStatusCode)
            {
                var e = System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
                if (done(e) || DateTime.UtcNow > deadline)
                {
                    return e;
                }
            }
            else if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"results for {window} answered {(int)r.StatusCode}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Tally?.Dispose();
        Orchestrator?.Dispose();
        Http.Dispose();
        foreach (var s in new IAsyncDisposable?[] { TallySide, OrchestratorSide, Results, Redis })
        {
            if (s is not null)
            {
                await s.DisposeAsync();
            }
        }

        _resources.Dispose();
    }

    private static DaprClient Client(SidecarHost s) => s.Client(FanVoteJson.Options);

    private Dictionary<string, string?> Env(string appId)
    {
        var env = TestKeys.SidecarEnvironment(appId);
        env["FANVOTE_REDIS_HOST"] = Redis.Address;
        return env;
    }
}
