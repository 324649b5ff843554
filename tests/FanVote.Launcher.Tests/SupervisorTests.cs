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
        Directory.CreateDirectory(Path.Combine(_root, "components"));
        File.WriteAllText(Path.Combine(_root, "components", "state.yaml"),
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: s }\nspec: { type: state.in-memory, version: v1 }\n");
        Directory.CreateDirectory(Path.Combine(_root, "web"));
        var runFile = Path.Combine(_root, "dapr.yaml");
        File.WriteAllText(runFile, """
            version: 1
            common:
              resourcesPath: ./components
              appHealthCheckPath: /
            apps:
              - appID: web
                appDirPath: ./web
                command: ["sh", "-c", "exec python3 -m http.server $APP_PORT --bind 127.0.0.1"]
            """);
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
    public async Task Up_AppThatDies_FailsWithItsLogAndLeavesNothingRunning()
    {
        Directory.CreateDirectory(Path.Combine(_root, "components"));
        Directory.CreateDirectory(Path.Combine(_root, "bad"));
        var runFile = Path.Combine(_root, "dapr.yaml");
        File.WriteAllText(runFile, """
            version: 1
            common: { resourcesPath: ./components }
            apps:
              - appID: bad
                appDirPath: ./bad
                command: ["sh", "-c", "echo config is broken; exit 3"]
            """);
        var supervisor = new Supervisor(Path.Combine(_root, "state"), TestEnvironment.ProjectDll("FanVote.Sidecar"), TextWriter.Null);

        var e = await Assert.ThrowsAsync<RunFileException>(() => supervisor.UpAsync(RunFile.Load(runFile), new Dictionary<string, string>(), TimeSpan.FromSeconds(60)));

        Assert.Contains("config is broken", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "state", "run.json")));
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
