using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace FanVote.Launcher;

/// <summary>One started app and its sidecar, as recorded in the run state file so `down` can stop them.</summary>
public sealed record StartedApp(string AppId, int AppPort, int DaprHttpPort, int DaprGrpcPort, int AppPid, int SidecarPid, string Runtime, string AppLog, string SidecarLog);

/// <summary>
/// Starts each app of dapr.yaml beside a sidecar (daprd when it is on PATH, else the local sidecar), detached
/// so they outlive this process, waits for both to be healthy, and records pids for <see cref="DownAsync"/>.
/// Like the Dapr CLI it passes APP_ID, APP_PORT, DAPR_HTTP_PORT, DAPR_GRPC_PORT and the app's env; secrets go only to
/// the processes that use them (<see cref="EnvPlan"/>).
/// </summary>
public sealed class Supervisor(string stateDir, string localSidecarDll, TextWriter output)
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private string StateFile => Path.Combine(stateDir, "run.json");

    public async Task<IReadOnlyList<StartedApp>> UpAsync(IReadOnlyList<RunFileApp> apps, IReadOnlyDictionary<string, string> extraEnv, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(apps);
        Directory.CreateDirectory(stateDir);
        if (File.Exists(StateFile))
        {
            throw new RunFileException($"FanVote is already up (state in {StateFile}); run ./fanvote down first");
        }

        var daprd = FindOnPath("daprd");
        var started = new List<StartedApp>();
        try
        {
            foreach (var app in apps)
            {
                var appPort = app.AppPort ?? FreePort();
                var http = app.DaprHttpPort ?? FreePort();
                var grpc = app.DaprGrpcPort ?? FreePort();
                var logDir = Path.Combine(stateDir, "logs");
                Directory.CreateDirectory(logDir);
                var sidecarLog = Path.Combine(logDir, $"{app.AppId}.sidecar.log");
                var appLog = Path.Combine(logDir, $"{app.AppId}.app.log");
                var sidecarArgs = app.DaprdArgs(http, grpc).ToList();
                if (app.AppPort is null)
                {
                    sidecarArgs.AddRange(["--app-port", Num(appPort)]);
                }

                var sidecarEnv = EnvPlan.For(app.AppId, sidecar: true, extraEnv);
                var sidecarPid = daprd is not null
                    ? StartDetached(daprd, sidecarArgs, app.AppDirPath, sidecarEnv, sidecarLog)
                    : StartDetached("dotnet", [localSidecarDll, .. sidecarArgs], app.AppDirPath, sidecarEnv, sidecarLog);

                var env = EnvPlan.For(app.AppId, sidecar: false, extraEnv);
                foreach (var (k, v) in app.Env)
                {
                    env[k] = v;
                }

                env["APP_ID"] = app.AppId;
                env["APP_PORT"] = Num(appPort);
                env["DAPR_HTTP_PORT"] = Num(http);
                env["DAPR_GRPC_PORT"] = Num(grpc);
                env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{appPort}";
                if (app.Command.Count == 0)
                {
                    throw new RunFileException($"app '{app.AppId}' has no command in dapr.yaml");
                }

                var appPid = StartDetached(app.Command[0], app.Command.Skip(1).ToList(), app.AppDirPath, env, appLog);
                started.Add(new StartedApp(app.AppId, appPort, http, grpc, appPid, sidecarPid, daprd is null ? "local sidecar" : "daprd", appLog, sidecarLog));
                await SaveAsync(started);
            }

            using var cts = new CancellationTokenSource(timeout);
            foreach (var s in started)
            {
                var app = apps.First(a => a.AppId == s.AppId);
                var watched = new[] { (s.AppPid, $"{s.AppId} app", s.AppLog), (s.SidecarPid, $"{s.AppId} sidecar", s.SidecarLog) };
                await WaitAsync($"{s.AppId} sidecar", $"http://127.0.0.1:{s.DaprHttpPort}/v1.0/healthz", watched, cts.Token);
                await WaitAsync($"{s.AppId} app", $"http://127.0.0.1:{s.AppPort}{app.Setting("appHealthCheckPath") ?? "/healthz"}", watched, cts.Token);
                await output.WriteLineAsync($"  ready: {s.AppId,-14} app http://127.0.0.1:{s.AppPort}  sidecar http {s.DaprHttpPort} / grpc {s.DaprGrpcPort} ({s.Runtime})");
            }

            return started;
        }
        catch
        {
            await DownAsync();
            throw;
        }
    }

    public async Task<int> DownAsync()
    {
        if (!File.Exists(StateFile))
        {
            return 0;
        }

        var started = JsonSerializer.Deserialize<List<StartedApp>>(await File.ReadAllTextAsync(StateFile)) ?? [];
        var stopped = 0;
        foreach (var s in Enumerable.Reverse(started))
        {
            stopped += Stop(s.AppPid) + Stop(s.SidecarPid);
        }

        File.Delete(StateFile);
        return stopped;
    }

    private static int Stop(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
            return 1;
        }
        catch (ArgumentException)
        {
            return 0; // already gone
        }
        catch (InvalidOperationException)
        {
            return 0;
        }
    }

    private async Task SaveAsync(List<StartedApp> started) =>
        await File.WriteAllTextAsync(StateFile, JsonSerializer.Serialize(started, Indented));

    /// <summary>Polls <paramref name="url"/> until 2xx; fails at once, with the log's tail, when a watched process dies.</summary>
    private static async Task WaitAsync(string what, string url, IReadOnlyList<(int Pid, string Name, string Log)> watched, CancellationToken ct)
    {
        while (true)
        {
            foreach (var (pid, name, log) in watched)
            {
                if (!IsAlive(pid))
                {
                    throw new RunFileException($"{name} exited during start-up; last lines of {log}:\n{Tail(log, 30)}");
                }
            }

            try
            {
                using var r = await Probe.GetAsync(new Uri(url), ct);
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }

            if (ct.IsCancellationRequested)
            {
                var logs = string.Join("\n", watched.Select(w => $"--- {w.Log}\n{Tail(w.Log, 15)}"));
                throw new RunFileException($"{what} not ready at {url} in time;\n{logs}");
            }

            await Task.Delay(250, CancellationToken.None);
        }
    }

    /// <summary>setsid + sh exec: the child gets its own session (outlives us) and writes straight to its log file.</summary>
    private static int StartDetached(string file, IReadOnlyList<string> args, string workDir, IReadOnlyDictionary<string, string> env, string log)
    {
        var psi = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = workDir,
            UseShellExecute = false,
            RedirectStandardInput = true,
        };
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$FANVOTE_LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add(file);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var k in psi.Environment.Keys.Where(EnvPlan.IsSecret).ToList())
        {
            psi.Environment.Remove(k); // inherited from the launcher: only what EnvPlan gives this process may reach it
        }

        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        psi.Environment["FANVOTE_LOG"] = log;
        using var p = Process.Start(psi) ?? throw new RunFileException($"could not start {file}");
        return p.Id;
    }

    private static bool IsAlive(int pid)
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

    private static string Tail(string file, int lines) =>
        File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(lines)) : "(no log)";

    private static string? FindOnPath(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, exe)).FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);
}
