using Dapr.DurableTask.Protobuf;
using Dapr.Workflow;
using Dapr.Workflow.Registration;
using FanVote.Testing;
using Grpc.Net.Client;
using StackExchange.Redis;

namespace FanVote.Sidecar.ConformanceTests.Workflows;

/// <summary>Which actor state store the workflow engine persists into.</summary>
public enum WorkflowStore
{
    Redis,
    PostgresV1,
    PostgresV2,
    InMemory,
}

/// <summary>
/// The TestWorkflows app (real Dapr.Workflow 1.19 worker) beside a local sidecar with no app port (the worker pulls
/// its work over gRPC), a private Redis for the activities' effects (and the state, for Redis), and a
/// DaprWorkflowClient for the test. Either process can be SIGKILLed and restarted on the same ports.
/// </summary>
public sealed class WorkflowRig : IAsyncDisposable
{
    /// <summary>Generous: a loaded 2-core machine, and the SDK waits 5 s before it reconnects a broken stream.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private readonly ResourceFolder _resources = new();
    private PostgresDatabase? _pg;
    private ConnectionMultiplexer? _mux;

    private WorkflowRig(string id) => Id = id;

    public string Id { get; }

    public string AppId => "wf-" + Id;

    public string Run { get; } = Guid.NewGuid().ToString("N")[..8];

    public RedisServer Redis { get; private set; } = null!;

    public SidecarHost Sidecar { get; private set; } = null!;

    public ManagedProcess App { get; private set; } = null!;

    public DaprWorkflowClient Client { get; private set; } = null!;

    public IDatabase Effects => _mux!.GetDatabase();

    /// <summary>The SDK's own generated gRPC stub, for what DaprWorkflowClient does not expose (raw history, bad calls).</summary>
    public TaskHubSidecarService.TaskHubSidecarServiceClient Raw { get; private set; } = null!;

    public static async Task<WorkflowRig> StartAsync(WorkflowStore store = WorkflowStore.Redis, string? apiToken = null, bool startApp = true)
    {
        var rig = new WorkflowRig(Guid.NewGuid().ToString("N")[..6]);
        await rig.InitAsync(store, apiToken, startApp);
        return rig;
    }

    private async Task InitAsync(WorkflowStore store, string? apiToken, bool startApp)
    {
        Redis = await RedisServer.StartAsync();
        _mux = await TestRedis.ConnectAsync(Redis.Address);
        string component;
        switch (store)
        {
            case WorkflowStore.Redis:
                component = $"type: state.redis\n  version: v1\n  metadata:\n  - {{ name: redisHost, value: \"{Redis.Address}\" }}\n  - {{ name: actorStateStore, value: \"true\" }}";
                break;
            case WorkflowStore.InMemory:
                component = "type: state.in-memory\n  version: v1\n  metadata:\n  - { name: actorStateStore, value: \"true\" }";
                break;
            default:
                _pg = await PostgresDatabase.CreateAsync("fvwf");
                var version = store == WorkflowStore.PostgresV1 ? "v1" : "v2";
                component = $"type: state.postgresql\n  version: {version}\n  metadata:\n  - {{ name: connectionString, value: \"{_pg.ConnectionString}\" }}\n  - {{ name: actorStateStore, value: \"true\" }}";
                break;
        }

        _resources.With("actorstore.yaml", $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: actorstore\nspec:\n  {component}\n");
        var env = new Dictionary<string, string?>();
        if (apiToken is not null)
        {
            env["DAPR_API_TOKEN"] = apiToken;
        }

        Sidecar = await new SidecarHost(AppId, _resources.Path, env: env).StartAsync(waitForApp: false);
        var appEnv = Sidecar.SdkEnvironment();
        appEnv["WF_REDIS"] = Redis.Address;
        if (apiToken is not null)
        {
            appEnv["DAPR_API_TOKEN"] = apiToken;
        }

        App = ManagedProcess.Dotnet("wfapp-" + Id, TestEnvironment.ProjectDll("FanVote.Sidecar.TestWorkflows"), [], appEnv);
        if (startApp)
        {
            App.Start();
        }

        var builder = new DaprWorkflowClientBuilder();
        builder.UseGrpcEndpoint(Sidecar.GrpcEndpoint);
        if (apiToken is not null)
        {
            builder.UseDaprApiToken(apiToken);
        }

        Client = builder.Build();
        var channel = GrpcChannel.ForAddress(Sidecar.GrpcEndpoint);
        Raw = new TaskHubSidecarService.TaskHubSidecarServiceClient(channel);
    }

    public static CancellationToken Deadline() =>
        CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken, new CancellationTokenSource(Patience).Token).Token;

    public string NewId(string prefix) => $"{prefix}-{Run[..4]}{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Waits for completion; on a timeout the failure says what the instance looked like and what the processes logged.</summary>
    public async Task<Dapr.Workflow.WorkflowState> CompletionAsync(string instanceId)
    {
        try
        {
            return await Client.WaitForWorkflowCompletionAsync(instanceId, true, Deadline());
        }
        catch (OperationCanceledException)
        {
            var s = await Client.GetWorkflowStateAsync(instanceId, true, TestContext.Current.CancellationToken);
            Assert.Fail($"workflow {instanceId} did not finish within {Patience}: status {s.RuntimeStatus}.\n--- sidecar:\n{Tail(Sidecar.Process.Output)}\n--- app:\n{Tail(App.Output)}");
            throw;
        }
    }

    /// <summary>Polls <paramref name="read"/> until <paramref name="done"/>; fails with the last value seen.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        T last;
        while (true)
        {
            last = await read();
            if (done(last))
            {
                return last;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what} not reached within {Patience}; last seen: {last}");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public async Task<long> CountAsync(string key) => (long?)await Effects.StringGetAsync(key) ?? 0;

    public async Task RestartSidecarAsync()
    {
        await Sidecar.KillAsync();
        await Sidecar.RestartAsync(waitForApp: false);
    }

    public async Task RestartAppAsync()
    {
        await App.KillAsync();
        App.Start();
    }

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }

        if (App is not null)
        {
            await App.DisposeAsync();
        }

        if (Sidecar is not null)
        {
            await Sidecar.DisposeAsync();
        }

        _mux?.Dispose();
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        if (_pg is not null)
        {
            await _pg.DisposeAsync();
        }

        _resources.Dispose();
    }

    private static string Tail(string output) => output.Length > 6000 ? output[^6000..] : output;
}
