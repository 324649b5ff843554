using System.Globalization;
using System.Net;

namespace FanVote.Testing;

/// <summary>
/// A FanVote service process beside its own local sidecar, the way `./fanvote up` runs it: the app gets
/// DAPR_HTTP_PORT / DAPR_GRPC_PORT / APP_ID / ASPNETCORE_URLS and the keys (<see cref="TestKeys"/>), the sidecar gets
/// --app-port, the resources and the tokens (DAPR_API_TOKEN it requires, APP_API_TOKEN it sends to the app).
/// <see cref="StartAsync"/> waits until the sidecar's /v1.0/healthz and the app's /healthz both answer.
/// </summary>
public sealed class ServiceHost : IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    public ServiceHost(string appId, string project, string resourcesPath, IReadOnlyDictionary<string, string?>? appEnv = null, IReadOnlyDictionary<string, string?>? sidecarEnv = null, int? appPort = null, string? redisHost = null)
    {
        AppId = appId;
        AppPort = appPort ?? Ports.Free();
        redisHost ??= TestEnvironment.Redis;
        var sidecarEnvironment = TestKeys.SidecarEnvironment(appId);
        sidecarEnvironment["FANVOTE_REDIS_HOST"] = redisHost;
        foreach (var (k, v) in sidecarEnv ?? new Dictionary<string, string?>())
        {
            sidecarEnvironment[k] = v;
        }

        Sidecar = new SidecarHost(appId, resourcesPath, AppPort, env: sidecarEnvironment);
        var env = new Dictionary<string, string?>(TestKeys.AppEnvironment(appId))
        {
            // As `./fanvote up` runs them (dapr.yaml): the development passcode outbox and challenge answer are allowed,
            // every key is set all the same (TestKeys). A test of the production rules sets Production itself.
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["APP_ID"] = appId,
            ["APP_PORT"] = AppPort.ToString(CultureInfo.InvariantCulture),
            ["ASPNETCORE_URLS"] = BaseUrl,
            ["DAPR_HTTP_PORT"] = Sidecar.HttpPort.ToString(CultureInfo.InvariantCulture),
            ["DAPR_GRPC_PORT"] = Sidecar.GrpcPort.ToString(CultureInfo.InvariantCulture),
            ["FANVOTE_REDIS_HOST"] = redisHost,
            // No warm-up before ready (seconds of the hot path per start, and tests restart apps often); the warm-up's
            // own tests turn it on (FanVote.Ingress.Tests' WarmUpTests).
            ["FanVote__WarmUpSeconds"] = "0",
        };
        foreach (var (k, v) in appEnv ?? new Dictionary<string, string?>())
        {
            env[k] = v; // the caller's settings win, e.g. a separate Redis for the app's own data
        }

        App = ManagedProcess.Dotnet(appId, TestEnvironment.ProjectDll(project), [], env);
    }

    public string AppId { get; }

    public int AppPort { get; }

    public string BaseUrl => $"http://127.0.0.1:{AppPort}";

    public SidecarHost Sidecar { get; }

    /// <summary>
    /// An HttpClient on the app that sends its app API token, as its sidecar does: for the routes only the sidecar may
    /// call (/dapr/subscribe, subscriptions, /metrics, health details). Public routes need no token.
    /// </summary>
    public HttpClient Internal => _internal ??= new HttpClient { BaseAddress = new Uri(BaseUrl), DefaultRequestHeaders = { { "dapr-api-token", TestKeys.AppToken(AppId) } } };

    private HttpClient? _internal;

    public ManagedProcess App { get; }

    public async Task<ServiceHost> StartAsync(TimeSpan? timeout = null)
    {
        App.Start();
        Sidecar.Process.Start();
        await WaitReadyAsync(timeout ?? TimeSpan.FromSeconds(90));
        return this;
    }

    /// <summary>Both healthy; fails fast with the output of whichever process died.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (App.HasExited)
            {
                throw new InvalidOperationException($"{AppId} exited with {App.ExitCode}:\n{App.Output}");
            }

            if (Sidecar.Process.HasExited)
            {
                throw new InvalidOperationException($"sidecar of {AppId} exited with {Sidecar.Process.ExitCode}:\n{Sidecar.Process.Output}");
            }

            if (await OkAsync($"{Sidecar.HttpEndpoint}/v1.0/healthz", HttpStatusCode.NoContent) && await OkAsync($"{BaseUrl}/healthz", HttpStatusCode.OK))
            {
                return;
            }

            await Task.Delay(150);
        }

        throw new TimeoutException($"{AppId} not ready in time.\n--- app:\n{App.Output}\n--- sidecar:\n{Sidecar.Process.Output}");
    }

    /// <summary>SIGKILL both, as a crash of the pod would.</summary>
    public async Task KillAsync()
    {
        await App.KillAsync();
        await Sidecar.KillAsync();
    }

    public async Task RestartAsync()
    {
        await KillAsync();
        await StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _internal?.Dispose();
        await App.DisposeAsync();
        await Sidecar.DisposeAsync();
    }

    private static async Task<bool> OkAsync(string url, HttpStatusCode expected)
    {
        try
        {
            using var r = await Probe.GetAsync(new Uri(url));
            return r.StatusCode == expected;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }
}
