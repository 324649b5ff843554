using System.Net.Http.Json;
using Dapr.Actors;
using Dapr.Actors.Client;
using FanVote.Sidecar.TestActors;
using FanVote.Testing;

namespace FanVote.Sidecar.ConformanceTests.Actors;

/// <summary>
/// TestActors app behind its sidecar, a second sidecar of another app id with no app (the caller), both on a
/// private Redis as actor state store, so the placement table is this rig's alone.
/// </summary>
public sealed class ActorRig : IAsyncLifetime
{
    private readonly ResourceFolder _resources = new();

    /// <summary>How long an actor stays active unused (ACTOR_IDLE_SECONDS of the test app); short by default.</summary>
    public string IdleSeconds { get; init; } = "1.5";

    public string Id { get; } = Guid.NewGuid().ToString("N")[..6];

    public RedisServer Redis { get; private set; } = null!;

    public SidecarHost Host { get; private set; } = null!;

    public SidecarHost Caller { get; private set; } = null!;

    public ManagedProcess App { get; private set; } = null!;

    public HttpClient AppHttp { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        _resources.With("state.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: actorstore
            spec:
              type: state.redis
              version: v1
              metadata:
              - name: redisHost
                value: "{Redis.Address}"
              - name: actorStateStore
                value: "true"
            """);
        var appPort = Ports.Free();
        Host = new SidecarHost("actors-" + Id, _resources.Path, appPort);
        var env = Host.SdkEnvironment();
        env["ACTOR_IDLE_SECONDS"] = IdleSeconds;
        App = ManagedProcess.Dotnet("testactors-" + Id, TestEnvironment.ProjectDll("FanVote.Sidecar.TestActors"), ["--urls", $"http://127.0.0.1:{appPort}"], env).Start();
        AppHttp.BaseAddress = new Uri($"http://127.0.0.1:{appPort}");
        await Host.StartAsync();
        Caller = await new SidecarHost("caller-" + Id, _resources.Path).StartAsync();
    }

    public T Proxy<T>(string type, string id, SidecarHost? via = null)
        where T : IActor =>
        ActorProxy.Create<T>(new ActorId(id), type, new ActorProxyOptions { HttpEndpoint = (via ?? Host).HttpEndpoint, RequestTimeout = TimeSpan.FromSeconds(30) });

    public ActorProxy Untyped(string type, string id, SidecarHost? via = null) =>
        ActorProxy.Create(new ActorId(id), type, new ActorProxyOptions { HttpEndpoint = (via ?? Host).HttpEndpoint, RequestTimeout = TimeSpan.FromSeconds(30) });

    public async Task<List<JournalEntry>> JournalAsync(string type, string id) =>
        await AppHttp.GetFromJsonAsync<List<JournalEntry>>($"/journal/{type}/{id}") ?? [];

    public async Task<List<JournalEntry>> WaitJournalAsync(string type, string id, Func<List<JournalEntry>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var j = await JournalAsync(type, id);
            if (done(j) || DateTime.UtcNow > deadline)
            {
                return j;
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Caller is not null)
        {
            await Caller.DisposeAsync();
        }

        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (App is not null)
        {
            await App.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        AppHttp.Dispose();
        _resources.Dispose();
    }
}

public sealed record JournalEntry(string Event, DateTimeOffset Start, DateTimeOffset End);
