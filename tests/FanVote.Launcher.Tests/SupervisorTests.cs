using System.Diagnostics;
using System.Text.Json;
using FanVote.Testing;

namespace FanVote.Launcher.Tests;

/// <summary>`up` starts every app of dapr.yaml beside a local sidecar, waits until both are healthy; `down` stops them.</summary>
public sealed class SupervisorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fv-up-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task UpThenDown_StartsAppAndSidecarHealthy_ThenStopsBoth()
    {
        var runFile = OneAppRunFile("web", "exec python3 -m http.server $APP_PORT --bind 127.0.0.1", healthPath: "/");
        File.WriteAllText(Path.Combine(_root, "components", "state.yaml"),
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: s }\nspec: { type: state.in-memory, version: v1 }\n");
        var state = Path.Combine(_root, "state");
        var output = new StringWriter();
        var supervisor = new Supervisor(state, TestEnvironment.ProjectDll("FanVote.Sidecar"), output);

        var started = await supervisor.UpAsync(RunFile.Load(runFile), new Dictionary<string, string>(), TimeSpan.FromSeconds(90));

        var web = Assert.Single(started);
        using (var http = new HttpClient())
        {
            using var sidecarHealth = await http.GetAsync(new Uri($"http://127.0.0.1:{web.DaprHttpPort}/v1.0/healthz"), TestContext.Current.CancellationToken);
            Assert.Equal(System.Net.HttpStatusCode.NoContent, sidecarHealth.StatusCode);
            var meta = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{web.DaprHttpPort}/v1.0/metadata"), TestContext.Current.CancellationToken));
            Assert.Equal("web", meta.RootElement.GetProperty("id").GetString());
        }

        Assert.Contains("ready: web", output.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(state, "run.json")));
        await Assert.ThrowsAsync<RunFileException>(() => supervisor.UpAsync(RunFile.Load(runFile), new Dictionary<string, string>(), TimeSpan.FromSeconds(5)));

        Assert.Equal(2, await supervisor.DownAsync());

        Assert.False(Alive(web.AppPid));
        Assert.False(Alive(web.SidecarPid));
        Assert.False(File.Exists(Path.Combine(state, "run.json")));
    }

    [Fact]
    public async Task Restart_GivesTheAppAFreshProcessOnItsPortsWithNewSettings_TheSidecarStays()
    {
        // The app serves its folder; mark.txt says which settings the process was started with.
        var runFile = OneAppRunFile("web", "echo \"$MARK\" > mark.txt && exec python3 -m http.server $APP_PORT --bind 127.0.0.1", healthPath: "/mark.txt");
        var state = Path.Combine(_root, "state");
        var supervisor = new Supervisor(state, TestEnvironment.ProjectDll("FanVote.Sidecar"), TextWriter.Null);
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient();
        try
        {
            var before = Assert.Single(await supervisor.UpAsync(RunFile.Load(runFile), new Dictionary<string, string> { ["MARK"] = "first" }, TimeSpan.FromSeconds(90)));
            Assert.Equal("first", (await http.GetStringAsync(new Uri($"http://127.0.0.1:{before.AppPort}/mark.txt"), ct)).Trim());

            var after = await supervisor.RestartAppAsync(RunFile.Load(runFile), "web", new Dictionary<string, string> { ["MARK"] = "second" }, TimeSpan.FromSeconds(90));

            Assert.NotEqual(before.AppPid, after.AppPid);
            Assert.False(Alive(before.AppPid), "the old app process is still running");
            Assert.Equal((before.AppPort, before.DaprHttpPort, before.DaprGrpcPort, before.SidecarPid), (after.AppPort, after.DaprHttpPort, after.DaprGrpcPort, after.SidecarPid));
            Assert.True(Alive(before.SidecarPid), "the sidecar was stopped by the app's restart");
            Assert.Equal("second", (await http.GetStringAsync(new Uri($"http://127.0.0.1:{after.AppPort}/mark.txt"), ct)).Trim());
            var recorded = Assert.Single(JsonSerializer.Deserialize<List<StartedApp>>(await File.ReadAllTextAsync(Path.Combine(state, "run.json"), ct))!);
            Assert.Equal(after.AppPid, recorded.AppPid);
            var e = await Assert.ThrowsAsync<RunFileException>(() => supervisor.RestartAppAsync(RunFile.Load(runFile), "nosuchapp", new Dictionary<string, string>(), TimeSpan.FromSeconds(5)));
            Assert.Contains("no app 'nosuchapp'", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Assert.Equal(2, await supervisor.DownAsync());
        }
    }

    [Fact]
    public async Task Up_AppThatDies_FailsWithItsLogAndLeavesNothingRunning()
    {
        var runFile = OneAppRunFile("bad", "echo config is broken; exit 3");
        var supervisor = new Supervisor(Path.Combine(_root, "state"), TestEnvironment.ProjectDll("FanVote.Sidecar"), TextWriter.Null);

        var e = await Assert.ThrowsAsync<RunFileException>(() => supervisor.UpAsync(RunFile.Load(runFile), new Dictionary<string, string>(), TimeSpan.FromSeconds(60)));

        Assert.Contains("config is broken", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "state", "run.json")));
    }

    /// <summary>A dapr.yaml of one app running `sh -c <paramref name="script"/>` in its own folder, beside an empty components folder.</summary>
    private string OneAppRunFile(string appId, string script, string? healthPath = null)
    {
        Directory.CreateDirectory(Path.Combine(_root, "components"));
        Directory.CreateDirectory(Path.Combine(_root, appId));
        var runFile = Path.Combine(_root, "dapr.yaml");
        var health = healthPath is null ? "" : $"\n  appHealthCheckPath: {healthPath}";
        // A JSON string is a YAML double-quoted scalar: the script goes in as it is, quotes and all.
        File.WriteAllText(runFile, $"""
            version: 1
            common:
              resourcesPath: ./components{health}
            apps:
              - appID: {appId}
                appDirPath: ./{appId}
                command: ["sh", "-c", {JsonSerializer.Serialize(script)}]
            """);
        return runFile;
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
