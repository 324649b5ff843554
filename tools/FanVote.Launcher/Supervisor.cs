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
/// <remarks>
/// Ports not fixed in dapr.yaml are picked free just before start, so another process can take one before the app or
/// its sidecar binds it. When a process of a pair exits during start-up saying "address already in use", the pair is
/// stopped, gets new free ports and is started again (up to <see cref="BindAttempts"/> times).
/// </remarks>
public sealed class Supervisor(string stateDir, string localSidecarDll, TextWriter output, Func<int>? pickPort = null)
{
    /// <summary>Starts of one app and its sidecar before a port taken under them fails `up`.</summary>
    public const int BindAttempts = 5;

    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly Func<int> _pickPort = pickPort ?? FreePort;
    private readonly HashSet<int> _picked = [];

    // Where each started process's output begins in its (appended) log: a bind error is looked for only there.
    private readonly Dictionary<int, long> _logStart = [];

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
                if (app.Command.Count == 0)
                {
                    throw new RunFileException($"app '{app.AppId}' has no command in dapr.yaml");
                }

                started.Add(StartPair(app, daprd, extraEnv));
                await SaveAsync(started);
            }

            using var cts = new CancellationTokenSource(timeout);
            for (var i = 0; i < started.Count; i++)
            {
                var app = apps.First(a => a.AppId == started[i].AppId);
                for (var attempt = 1; ; attempt++)
                {
                    var s = started[i];
                    try
                    {
                        var watched = new[] { (s.AppPid, $"{s.AppId} app", s.AppLog), (s.SidecarPid, $"{s.AppId} sidecar", s.SidecarLog) };
                        await WaitAsync($"{s.AppId} sidecar", $"http://127.0.0.1:{s.DaprHttpPort}/v1.0/healthz", watched, cts.Token);
                        await WaitAsync($"{s.AppId} app", $"http://127.0.0.1:{s.AppPort}{app.Setting("appHealthCheckPath") ?? "/healthz"}", watched, cts.Token);
                        await output.WriteLineAsync($"  ready: {s.AppId,-14} app http://127.0.0.1:{s.AppPort}  sidecar http {s.DaprHttpPort} / grpc {s.DaprGrpcPort} ({s.Runtime})");
                        break;
                    }
                    catch (PortTakenException e) when (attempt < BindAttempts)
                    {
                        await output.WriteLineAsync($"  {e.Process} could not bind its port ({e.Line.Trim()}); starting {s.AppId} again on new ports (attempt {attempt + 1} of {BindAttempts})");
                        foreach (var pid in new[] { s.AppPid, s.SidecarPid })
                        {
                            Stop(pid);
                            StopSession(pid);
                        }

                        started[i] = StartPair(app, daprd, extraEnv);
                        await SaveAsync(started);
                    }
                }
            }

            return started;
        }
        catch
        {
            await DownAsync();
            throw;
        }
    }

    /// <summary>Starts <paramref name="app"/>'s sidecar, then the app, on its fixed ports or newly picked free ones.</summary>
    private StartedApp StartPair(RunFileApp app, string? daprd, IReadOnlyDictionary<string, string> extraEnv)
    {
        var appPort = app.AppPort ?? Pick();
        var http = app.DaprHttpPort ?? Pick();
        var grpc = app.DaprGrpcPort ?? Pick();
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

        var appPid = StartApp(app, appPort, http, grpc, extraEnv, appLog);
        return new StartedApp(app.AppId, appPort, http, grpc, appPid, sidecarPid, daprd is null ? "local sidecar" : "daprd", appLog, sidecarLog);
    }

    /// <summary>
    /// Stops app <paramref name="appId"/> (its sidecar stays up) and starts it again on the same ports with the same
    /// settings, then waits for its health check: a fresh process, as a new pod of the app would be.
    /// </summary>
    public async Task<StartedApp> RestartAppAsync(IReadOnlyList<RunFileApp> apps, string appId, IReadOnlyDictionary<string, string> extraEnv, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(apps);
        if (!File.Exists(StateFile))
        {
            throw new RunFileException($"FanVote is not up (no {StateFile})");
        }

        var started = await LoadAsync();
        var i = started.FindIndex(s => s.AppId == appId);
        var app = apps.FirstOrDefault(a => a.AppId == appId);
        if (i < 0 || app is null)
        {
            throw new RunFileException($"no app '{appId}' is up (apps: {string.Join(", ", started.Select(s => s.AppId))})");
        }

        var old = started[i];
        Stop(old.AppPid);
        StopSession(old.AppPid);
        var pid = StartApp(app, old.AppPort, old.DaprHttpPort, old.DaprGrpcPort, extraEnv, old.AppLog);
        started[i] = old with { AppPid = pid };
        await SaveAsync(started);
        using var cts = new CancellationTokenSource(timeout);
        await WaitAsync($"{appId} app", $"http://127.0.0.1:{old.AppPort}{app.Setting("appHealthCheckPath") ?? "/healthz"}", [(pid, $"{appId} app", old.AppLog)], cts.Token);
        await output.WriteLineAsync($"  ready: {appId,-14} app http://127.0.0.1:{old.AppPort} (restarted, pid {pid})");
        return started[i];
    }

    private int StartApp(RunFileApp app, int appPort, int http, int grpc, IReadOnlyDictionary<string, string> extraEnv, string appLog)
    {
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
        return StartDetached(app.Command[0], app.Command.Skip(1).ToList(), app.AppDirPath, env, appLog);
    }

    /// <summary>A free port not handed out before in this run (two picks of one `up` never collide).</summary>
    private int Pick()
    {
        for (var i = 0; ; i++)
        {
            var port = _pickPort();
            if (_picked.Add(port) || i >= 100)
            {
                return port;
            }
        }
    }

    public async Task<int> DownAsync()
    {
        if (!File.Exists(StateFile))
        {
            return 0;
        }

        var started = await LoadAsync();
        var stopped = 0;
        foreach (var s in Enumerable.Reverse(started))
        {
            stopped += Stop(s.AppPid) + Stop(s.SidecarPid);
        }

        // Anything left in their sessions (each was started as a session leader: a `dotnet run` child whose parent
        // went first, say) goes too, so `down` leaves no process behind.
        foreach (var s in started)
        {
            StopSession(s.AppPid);
            StopSession(s.SidecarPid);
        }

        File.Delete(StateFile);
        return stopped;
    }

    /// <summary>Pids of the processes in session <paramref name="sid"/> (Linux /proc), the leader excluded.</summary>
    public static IReadOnlyList<int> SessionMembers(int sid)
    {
        var members = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == sid)
            {
                continue;
            }

            try
            {
                // pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses, so parse after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 3 && fields[0] != "Z" && int.Parse(fields[3], CultureInfo.InvariantCulture) == sid)
                {
                    members.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return members;
    }

    private static void StopSession(int sid)
    {
        if (!OperatingSystem.IsLinux() || sid <= 1)
        {
            return;
        }

        foreach (var pid in SessionMembers(sid))
        {
            Stop(pid);
        }
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

    private async Task<List<StartedApp>> LoadAsync() =>
        JsonSerializer.Deserialize<List<StartedApp>>(await File.ReadAllTextAsync(StateFile)) ?? [];

    private async Task SaveAsync(List<StartedApp> started) =>
        await File.WriteAllTextAsync(StateFile, JsonSerializer.Serialize(started, Indented));

    /// <summary>Polls <paramref name="url"/> until 2xx; fails at once, with the log's tail, when a watched process dies.</summary>
    private async Task WaitAsync(string what, string url, IReadOnlyList<(int Pid, string Name, string Log)> watched, CancellationToken ct)
    {
        while (true)
        {
            foreach (var (pid, name, log) in watched)
            {
                if (!IsAlive(pid))
                {
                    if (BindFailure(log, LogStart(pid)) is { } line)
                    {
                        throw new PortTakenException(name, line);
                    }

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
    private int StartDetached(string file, IReadOnlyList<string> args, string workDir, IReadOnlyDictionary<string, string> env, string log)
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
        var logStart = File.Exists(log) ? new FileInfo(log).Length : 0;
        using var p = Process.Start(psi) ?? throw new RunFileException($"could not start {file}");
        _logStart[p.Id] = logStart;
        return p.Id;
    }

    private long LogStart(int pid) => _logStart.GetValueOrDefault(pid);

    /// <summary>
    /// The line of <paramref name="log"/> (from byte <paramref name="from"/>, this start's output) that says a port was
    /// taken: Kestrel's "Failed to bind to address ...: address already in use", Go's "bind: address already in use"
    /// (daprd), Python's "[Errno 98] Address already in use".
    /// </summary>
    public static string? BindFailure(string log, long from)
    {
        if (!File.Exists(log))
        {
            return null;
        }

        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(Math.Min(from, stream.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                return line;
            }
        }

        return null;
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

/// <summary>A process of a pair exited during start-up because a port it was given was taken.</summary>
public sealed class PortTakenException(string process, string line) : RunFileException($"{process} could not bind its port: {line}")
{
    public string Process { get; } = process;

    public string Line { get; } = line;
}
