using System.Net;

namespace FanVote.Testing;

/// <summary>
/// One local sidecar process (tools/FanVote.Sidecar) started with daprd flags on free ports.
/// <see cref="StartAsync"/> waits for /v1.0/healthz (or only the outbound probe when <c>waitForApp</c> is false).
/// </summary>
public sealed class SidecarHost : IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    public SidecarHost(string appId, string resourcesPath, int? appPort = null, IReadOnlyList<string>? extraArgs = null, IReadOnlyDictionary<string, string?>? env = null)
    {
        AppId = appId;
        ResourcesPath = resourcesPath;
        AppPort = appPort;
        HttpPort = Ports.Free();
        GrpcPort = Ports.Free();
        var args = new List<string>
        {
            "--app-id", appId,
            "--dapr-http-port", HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--dapr-grpc-port", GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--resources-path", resourcesPath,
            "--log-level", "debug",
        };
        if (appPort is { } p)
        {
            args.AddRange(["--app-port", p.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        args.AddRange(extraArgs ?? []);

        // Tests read streams after their consumers acknowledged them: no trimming unless a test asks for it.
        var environment = new Dictionary<string, string?>(env ?? new Dictionary<string, string?>());
        environment.TryAdd("FANVOTE_STREAM_TRIM_INTERVAL", "0");

        Process = ManagedProcess.Dotnet($"sidecar:{appId}", TestEnvironment.ProjectDll("FanVote.Sidecar"), args, environment);
    }

    public string AppId { get; }

    public string ResourcesPath { get; }

    public int? AppPort { get; }

    public int HttpPort { get; }

    public int GrpcPort { get; }

    public ManagedProcess Process { get; }

    public string HttpEndpoint => $"http://127.0.0.1:{HttpPort}";

    public string GrpcEndpoint => $"http://127.0.0.1:{GrpcPort}";

    /// <summary>Environment an app needs to reach this sidecar through the Dapr SDK.</summary>
    public Dictionary<string, string?> SdkEnvironment() => new()
    {
        ["DAPR_HTTP_PORT"] = HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["DAPR_GRPC_PORT"] = GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>A DaprClient on this sidecar that sends <see cref="TestKeys.DaprApiToken"/> (a sidecar started with <see cref="TestKeys.SidecarEnvironment"/> requires it).</summary>
    public Dapr.Client.DaprClient Client(System.Text.Json.JsonSerializerOptions? json = null)
    {
        var b = new Dapr.Client.DaprClientBuilder().UseGrpcEndpoint(GrpcEndpoint).UseHttpEndpoint(HttpEndpoint).UseDaprApiToken(TestKeys.DaprApiToken);
        return (json is null ? b : b.UseJsonSerializationOptions(json)).Build();
    }

    public async Task<SidecarHost> StartAsync(bool waitForApp = true, TimeSpan? timeout = null)
    {
        Process.Start();
        await WaitHealthyAsync(waitForApp, timeout ?? TimeSpan.FromSeconds(60));
        return this;
    }

    public async Task WaitHealthyAsync(bool waitForApp = true, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var path = waitForApp ? "/v1.0/healthz" : "/v1.0/healthz/outbound";
        while (DateTime.UtcNow < deadline)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"sidecar {AppId} exited with {Process.ExitCode}:\n{Process.Output}");
            }

            try
            {
                using var r = await Probe.GetAsync(new Uri(HttpEndpoint + path));
                if (r.StatusCode == HttpStatusCode.NoContent)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"sidecar {AppId} not healthy ({path}) in time:\n{Process.Output}");
    }

    public Task KillAsync() => Process.KillAsync();

    public async Task RestartAsync(bool waitForApp = true)
    {
        await Process.RestartAsync();
        await WaitHealthyAsync(waitForApp);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
