using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FanVote.Testing;

namespace FanVote.Launcher.Tests;

/// <summary>
/// Issue 12: `up` never loses a port race. A port the launcher picked free can be taken before the app or its sidecar
/// binds it; the pair then gets new ports and starts again. `up`, `down`, `up` in a row works and `down` leaves no
/// process, not even one a started process left behind in its session.
/// </summary>
public sealed class PortRaceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fv-race-").FullName;
    private readonly List<TcpListener> _held = [];

    public void Dispose()
    {
        foreach (var l in _held)
        {
            l.Stop();
            l.Dispose();
        }

        Directory.Delete(_root, recursive: true);
    }

    /// <summary>A one-app dapr.yaml; <paramref name="command"/> serves HTTP on $APP_PORT.</summary>
    private string RunFile(string command)
    {
        Directory.CreateDirectory(Path.Combine(_root, "components"));
        File.WriteAllText(Path.Combine(_root, "components", "state.yaml"),
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: s }\nspec: { type: state.in-memory, version: v1 }\n");
        Directory.CreateDirectory(Path.Combine(_root, "web"));
        var runFile = Path.Combine(_root, "dapr.yaml");
        File.WriteAllText(runFile, $$"""
            version: 1
            common:
              resourcesPath: ./components
              appHealthCheckPath: /
            apps:
              - appID: web
                appDirPath: ./web
                command: ["sh", "-c", "{{command}}"]
            """);
        return runFile;
    }

    private const string PythonApp = "exec python3 -m http.server $APP_PORT --bind 127.0.0.1";

    /// <summary>Picks free ports, except that pick number <paramref name="taken"/> (1-based) is a port this test holds.</summary>
    private Func<int> PickerTaking(int taken, List<int> picks)
    {
        return () =>
        {
            int port;
            if (picks.Count + 1 == taken)
            {
                var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                _held.Add(l);
                port = ((IPEndPoint)l.LocalEndpoint).Port;
            }
            else
            {
                using var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                port = ((IPEndPoint)l.LocalEndpoint).Port;
            }

            picks.Add(port);
            return port;
        };
    }

    // Picks in order: the app port, the sidecar's HTTP port, its gRPC port.
    [Theory]
    [InlineData(1, "web app")]
    [InlineData(2, "web sidecar")]
    [InlineData(3, "web sidecar")]
    public async Task Up_PickedPortTakenBeforeItIsBound_PairStartsAgainOnNewPorts(int taken, string failing)
    {
        var ct = TestContext.Current.CancellationToken;
        var picks = new List<int>();
        var output = new StringWriter();
        var supervisor = new Supervisor(Path.Combine(_root, "state"), TestEnvironment.ProjectDll("FanVote.Sidecar"), output, PickerTaking(taken, picks));

        var started = await supervisor.UpAsync(Launcher.RunFile.Load(RunFile(PythonApp)), new Dictionary<string, string>(), TimeSpan.FromSeconds(120));

        var heldPort = picks[taken - 1];
        var web = Assert.Single(started);
        Assert.DoesNotContain(heldPort, new[] { web.AppPort, web.DaprHttpPort, web.DaprGrpcPort });
        Assert.True(picks.Count >= 6, $"expected a second set of ports to be picked, picks: {string.Join(", ", picks)}");
        Assert.Contains($"{failing} could not bind its port", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("ready: web", output.ToString(), StringComparison.Ordinal);
        using (var http = new HttpClient())
        {
            using var app = await http.GetAsync(new Uri($"http://127.0.0.1:{web.AppPort}/"), ct);
            Assert.True(app.IsSuccessStatusCode, $"app answered {(int)app.StatusCode}");
            using var sidecar = await http.GetAsync(new Uri($"http://127.0.0.1:{web.DaprHttpPort}/v1.0/healthz"), ct);
            Assert.Equal(HttpStatusCode.NoContent, sidecar.StatusCode);
        }

        Assert.Equal(2, await supervisor.DownAsync());
        AssertGone(web);
    }

    [Fact]
    public async Task Up_PortTakenOnEveryAttempt_FailsNamingItAndLeavesNothingRunning()
    {
        var held = new TcpListener(IPAddress.Loopback, 0);
        held.Start();
        _held.Add(held);
        var port = ((IPEndPoint)held.LocalEndpoint).Port;
        var output = new StringWriter();
        var supervisor = new Supervisor(Path.Combine(_root, "state"), TestEnvironment.ProjectDll("FanVote.Sidecar"), output);
        // The app's port is fixed by the command itself, so no new port can help.
        var runFile = RunFile($"exec python3 -m http.server {port} --bind 127.0.0.1");

        var e = await Assert.ThrowsAsync<PortTakenException>(() => supervisor.UpAsync(Launcher.RunFile.Load(runFile), new Dictionary<string, string>(), TimeSpan.FromSeconds(120)));

        Assert.Contains("address already in use", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(Supervisor.BindAttempts - 1, output.ToString().Split('\n').Count(l => l.Contains("starting web again on new ports", StringComparison.Ordinal)));
        Assert.False(File.Exists(Path.Combine(_root, "state", "run.json")));
    }

    [Fact]
    public async Task UpDownUp_InARow_EachUpHealthy_DownLeavesNoProcessEvenOrphans()
    {
        var ct = TestContext.Current.CancellationToken;
        // The app leaves an orphan behind in its session (a background child of a subshell that exits at once).
        var runFile = RunFile("(sleep 600 &) ; " + PythonApp);
        var state = Path.Combine(_root, "state");
        for (var round = 1; round <= 2; round++)
        {
            var supervisor = new Supervisor(state, TestEnvironment.ProjectDll("FanVote.Sidecar"), TextWriter.Null);
            var web = Assert.Single(await supervisor.UpAsync(Launcher.RunFile.Load(runFile), new Dictionary<string, string>(), TimeSpan.FromSeconds(120)));
            using (var http = new HttpClient())
            {
                using var app = await http.GetAsync(new Uri($"http://127.0.0.1:{web.AppPort}/"), ct);
                Assert.True(app.IsSuccessStatusCode, $"round {round}: app answered {(int)app.StatusCode}");
            }

            Assert.NotEmpty(Supervisor.SessionMembers(web.AppPid));

            Assert.Equal(2, await supervisor.DownAsync());

            AssertGone(web);
            Assert.False(File.Exists(Path.Combine(state, "run.json")));
        }
    }

    private static void AssertGone(StartedApp web)
    {
        Assert.False(Alive(web.AppPid), $"app {web.AppPid} still runs");
        Assert.False(Alive(web.SidecarPid), $"sidecar {web.SidecarPid} still runs");
        Assert.Empty(Supervisor.SessionMembers(web.AppPid));
        Assert.Empty(Supervisor.SessionMembers(web.SidecarPid));
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
