using System.Text.Json;
using FanVote.Testing;

namespace FanVote.Launcher.Tests;

/// <summary>
/// `./fanvote up --region NAME` as the launcher runs it: every app gets components/NAME/resources and
/// components/NAME/config.yaml. A tiny Python app stands in for the services (free ports, not 5080-5083).
/// </summary>
public sealed class RegionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fv-region-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Region(string name) => Path.Combine(TestEnvironment.RepoRoot, "components", name);

    private IReadOnlyList<RunFileApp> WebApp(string region)
    {
        Directory.CreateDirectory(Path.Combine(_root, "web"));
        var runFile = Path.Combine(_root, "dapr.yaml");
        File.WriteAllText(runFile, """
            version: 1
            common:
              appHealthCheckPath: /
            apps:
              - appID: tally
                appDirPath: ./web
                command: ["sh", "-c", "exec python3 -m http.server $APP_PORT --bind 127.0.0.1"]
            """);
        return RunFile.WithRegion(RunFile.Load(runFile, home: _root), Path.Combine(Region(region), "resources"), Path.Combine(Region(region), "config.yaml"));
    }

    [Fact]
    public void WithRegion_EveryAppGetsTheRegionsResourcesAndConfiguration()
    {
        var app = Assert.Single(WebApp("region-a"));

        var args = app.DaprdArgs(3500, 50001);

        Assert.Equal([Path.Combine(Region("region-a"), "resources")], app.ResourcesPaths);
        Assert.Equal(Path.Combine(Region("region-a"), "config.yaml"), args[args.ToList().IndexOf("--config") + 1]);
        Assert.Throws<RunFileException>(() => RunFile.WithRegion([app], Path.Combine(_root, "nowhere"), null));
        Assert.Throws<RunFileException>(() => RunFile.WithRegion([app], Path.Combine(Region("region-a"), "resources"), Path.Combine(_root, "no-config.yaml")));
    }

    [Fact]
    public async Task Up_KafkaRegionOnTheLocalSidecar_StopsWithTheUnsupportedComponentError()
    {
        SkipWhenDaprdIsInstalled();
        var supervisor = new Supervisor(Path.Combine(_root, "state"), TestEnvironment.ProjectDll("FanVote.Sidecar"), TextWriter.Null);

        var e = await Assert.ThrowsAsync<RunFileException>(() => supervisor.UpAsync(WebApp("region-b"), new Dictionary<string, string>(), TimeSpan.FromSeconds(60)));

        Assert.Contains("tally sidecar exited during start-up", e.Message, StringComparison.Ordinal);
        Assert.Contains("has type 'pubsub.kafka', which the FanVote local sidecar does not implement", e.Message, StringComparison.Ordinal);
        Assert.Contains("daprd", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "state", "run.json")));
    }

    [Fact]
    public async Task Up_RedisRegionOnTheLocalSidecar_ResolvesSecretsFromTheFileAndRuns()
    {
        SkipWhenDaprdIsInstalled();
        var secrets = Path.Combine(_root, "secrets.json");
        await File.WriteAllTextAsync(secrets, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["fanvote-redis"] = new Dictionary<string, string> { ["host"] = TestEnvironment.Redis, ["password"] = "" },
        }), TestContext.Current.CancellationToken);
        var supervisor = new Supervisor(Path.Combine(_root, "state"), TestEnvironment.ProjectDll("FanVote.Sidecar"), TextWriter.Null);

        var started = Assert.Single(await supervisor.UpAsync(WebApp("region-a"), new Dictionary<string, string> { ["FANVOTE_SECRETS_FILE"] = secrets }, TimeSpan.FromSeconds(90)));
        try
        {
            using var http = new HttpClient();
            using var meta = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{started.DaprHttpPort}/v1.0/metadata"), TestContext.Current.CancellationToken));
            var components = meta.RootElement.GetProperty("components").EnumerateArray()
                .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("type").GetString()!);
            Assert.Equal("pubsub.redis", components["vote-bus"]);
            Assert.Equal("state.redis", components["fanvote-state"]);
            Assert.Equal("secretstores.local.file", components["fanvote-secrets"]);
        }
        finally
        {
            await supervisor.DownAsync();
        }
    }

    private static void SkipWhenDaprdIsInstalled()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, "daprd")));
        Assert.SkipWhen(onPath, "daprd is on PATH, so the launcher runs it instead of the local sidecar");
    }
}
