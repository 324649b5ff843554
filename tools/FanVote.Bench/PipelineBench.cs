using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FanVote.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Bench;

/// <summary>
/// The vote pipeline under load, against a running `./fanvote up`: ingress beside a bare ASP.NET Core 202
/// endpoint and beside ingress's own host without the sidecar (<see cref="DirectEndpoint"/>), with the same load
/// generator (wrk) at 64 and 256 connections, a spike from idle, the tally's drain
/// rate from a backlog beside a plain PostgreSQL COPY, and accept → visible-in-results latency.
/// </summary>
public static partial class PipelineBench
{
    internal static readonly string[] Candidates = ["aurora", "blaze", "comet", "dune"];
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<int> RunAsync(BenchArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var runDir = args.Require("run-dir");
        // The secrets of the `./fanvote up` under test, read from its run folder (never passed on a command line).
        var secrets = EnvFile(Path.Combine(runDir, "secrets.env"));
        var appEnv = EnvFile(Path.Combine(runDir, "app.env"));
        var pg = args.Get("pg", appEnv["FANVOTE_PG_CONNECTION"]);
        var key = args.Get("operator-key", secrets["FANVOTE_OPERATOR_KEY"]);
        var seconds = args.Number("seconds", 10);
        var ingress = args.Get("ingress", "http://127.0.0.1:5080");
        var results = args.Get("results", "http://127.0.0.1:5081");
        var orchestrator = args.Get("orchestrator", "http://127.0.0.1:5082");
        var barePort = args.Number("bare-port", 5090);
        var redis = RedisConnection(args.Get("redis", appEnv["FANVOTE_REDIS_HOST"]), secrets);
        var window = "bench-" + Guid.NewGuid().ToString("N")[..6];

        await CreateWindowAsync(orchestrator, key, window);
        var tokens = Tokens(secrets["FANVOTE_TOKEN_KEYS"], window, args.Number("accounts", 5000));
        var script = Path.Combine(runDir, "vote.lua");
        await File.WriteAllTextAsync(script, Lua(tokens, window));
        Console.WriteLine($"FanVote pipeline benchmark — {Environment.ProcessorCount} cores, wrk -t2, {seconds} s per run, window {window}, {tokens.Count} accounts");
        Console.WriteLine();

        var cpu = new CpuMeter(runDir);
        using var bare = Process.Start(new ProcessStartInfo("dotnet", [typeof(PipelineBench).Assembly.Location, "bare", "--port", barePort.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;

        // The second baseline: ingress's host without the sidecar (DirectEndpoint), for a window of its own, which the
        // running ingress must have stored before the direct host loads the windows at its start.
        var directPort = args.Number("direct-port", 5091);
        var directWindow = window + "-direct";
        await CreateWindowAsync(orchestrator, key, directWindow);
        var directTokens = Tokens(secrets["FANVOTE_TOKEN_KEYS"], directWindow, tokens.Count);
        var directScript = Path.Combine(runDir, "vote-direct.lua");
        await File.WriteAllTextAsync(directScript, Lua(directTokens, directWindow));
        await WaitAcceptedAsync(ingress, directWindow, directTokens[0]);
        using var direct = StartDirect(runDir, secrets, appEnv, directPort);
        try
        {
            await WaitHttpAsync($"http://127.0.0.1:{barePort}/v1/windows/x/votes");
            await WrkAsync($"http://127.0.0.1:{barePort}", script, 64, 3); // warm-up
            await WaitAcceptedAsync($"http://127.0.0.1:{directPort}", directWindow, directTokens[1]);
            cpu.Track("direct host", direct.Id);
            await WrkAsync($"http://127.0.0.1:{directPort}", directScript, 64, 15); // warm-up

            // Long enough for the JIT to reach its optimized code on every process of the vote path.
            await WrkAsync(ingress, script, 64, 15);

            // Every run starts on a quiet machine: the consumers of `votes` have caught up with what the run before
            // left in the broker (else the bare endpoint would share the CPU with the tally's and fraud's catch-up).
            Task QuietAsync() => PipelineBench.QuietAsync(redis);

            var rows = new List<WrkResult>();
            var breakdowns = new List<(string Name, IEnumerable<(string Group, double MicrosPerVote)> PerVote)>();
            var ratios = new List<string>();
            foreach (var c in new[] { 64, 256 })
            {
                await QuietAsync();
                var bareRun = await WrkAsync($"http://127.0.0.1:{barePort}", script, c, seconds) with { Name = $"bare ASP.NET Core 202, {c} connections" };
                rows.Add(bareRun);
                await QuietAsync();
                var before = cpu.Snapshot();
                var directRun = await WrkAsync($"http://127.0.0.1:{directPort}", directScript, c, seconds) with { Name = $"direct: ingress's host, XADD instead of the sidecar, {c} connections" };
                rows.Add(directRun);
                breakdowns.Add(($"direct at {c} connections", CpuMeter.PerVote(before, cpu.Snapshot(), directRun.Total)));
                await QuietAsync();
                before = cpu.Snapshot();
                var run = await WrkAsync(ingress, script, c, seconds) with { Name = $"ingress POST /votes, {c} connections" };
                rows.Add(run);
                breakdowns.Add(($"ingress at {c} connections, every service live", CpuMeter.PerVote(before, cpu.Snapshot(), run.Total)));
                ratios.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{c} connections: ingress / bare {run.RequestsPerSecond / bareRun.RequestsPerSecond:P0}, ingress / direct {run.RequestsPerSecond / directRun.RequestsPerSecond:P0}, direct / bare {directRun.RequestsPerSecond / bareRun.RequestsPerSecond:P0}"));
            }

            await QuietAsync();
            await Task.Delay(TimeSpan.FromSeconds(5)); // idle
            rows.Add(await WrkAsync(ingress, script, 256, 5) with { Name = "spike: idle → 256 connections, first 5 s" });

            Console.WriteLine("| run | req/s | p50 ms | p99 ms | non-2xx |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            foreach (var r in rows)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {r.RequestsPerSecond:N0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.Non2xx} |"));
            }

            Console.WriteLine();
            Console.WriteLine("Ratios (aim for ingress / bare: 60 % or more; ingress / direct is what the sidecar hop costs):");
            foreach (var line in ratios)
            {
                Console.WriteLine("  " + line);
            }

            Console.WriteLine("CPU per vote below: the direct host's own process beside Redis; non-2xx of the direct runs are its refusals (as ingress's).");
            foreach (var (name, perVote) in breakdowns)
            {
                PrintBreakdown(name, perVote);
            }
        }
        finally
        {
            bare.Kill(entireProcessTree: true);
            await bare.WaitForExitAsync();
            direct.Kill(entireProcessTree: true);
            await direct.WaitForExitAsync();
            cpu.Forget("direct host");
            await using var mux = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis);
            await mux.GetDatabase().KeyDeleteAsync(DirectEndpoint.Stream);
        }

        await DrainAsync(runDir, cpu, pg, redis, ingress, script, window, seconds);
        var idle = await VisibleLatencyAsync(ingress, results, tokens, window, args.Number("samples", 100));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"accept → visible in the results stream, {idle.Count} votes one at a time: p50 {Pct(idle, 50):F0} ms, p99 {Pct(idle, 99):F0} ms (aim: p99 under 1000 ms)"));

        // The same while ingress runs at its peak (issue 18): a second window takes the probe votes, one at a time, while
        // wrk drives the first at 256 connections; both go through the same ingress, broker, tally and results.
        var probeWindow = window + "-probe";
        await CreateWindowAsync(orchestrator, key, probeWindow);
        var probeTokens = Tokens(secrets["FANVOTE_TOKEN_KEYS"], probeWindow, 500);
        await WaitAcceptedAsync(ingress, probeWindow, probeTokens[^1]);
        await QuietAsync(redis);
        var load = WrkAsync(ingress, script, 256, args.Number("load-seconds", 30));
        await Task.Delay(TimeSpan.FromSeconds(3)); // past the ramp
        var underLoad = await VisibleLatencyAsync(ingress, results, probeTokens[..^1], probeWindow, args.Number("samples", 100), until: load);
        var loadRun = await load;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"accept → visible while ingress runs at its peak ({loadRun.RequestsPerSecond:N0} votes/s at 256 connections, p99 accept {loadRun.P99Ms:F0} ms), {underLoad.Count} probe votes one at a time on a window of their own: p50 {Pct(underLoad, 50):F0} ms, p99 {Pct(underLoad, 99):F0} ms (aim: p99 under 250 ms)"));
        // /metrics answers only the app's own token (as Prometheus scrapes it: Authorization: Bearer).
        await PrintRefusalsAsync(ingress, secrets.GetValueOrDefault("FANVOTE_APP_TOKEN_INGRESS", ""));
        return 0;
    }

    /// <summary>What the non-2xx answers were, from ingress's own counters (bench fans vote far faster than real ones, so a few get challenged).</summary>
    private static async Task PrintRefusalsAsync(string ingress, string appToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{ingress}/metrics");
        request.Headers.Authorization = new("Bearer", appToken);
        using var response = await Http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            Console.WriteLine();
            Console.WriteLine($"votes refused by ingress: not known (GET /metrics answered {(int)response.StatusCode}; is FANVOTE_APP_TOKEN_INGRESS in secrets.env?)");
            return;
        }

        var text = await response.Content.ReadAsStringAsync();
        var refused = text.Split('\n')
            .Where(l => l.StartsWith("fanvote_ingress_votes_refused", StringComparison.Ordinal))
            .Select(l => (Reason: RefusalReason().Match(l).Groups[1].Value, Count: double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)))
            .Where(r => r.Count > 0)
            .Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Reason} {r.Count:N0}"))
            .ToList();
        Console.WriteLine();
        Console.WriteLine($"votes refused by ingress over the whole run, by reason: {(refused.Count == 0 ? "none" : string.Join(", ", refused))}");
    }

    /// <summary>
    /// Pauses the consumers of `votes` (the tally's and the fraud service's sidecars, SIGSTOP) while ingress runs
    /// alone, which is the ingress tier's own capacity (votes queue in the broker), then lets only the tally go and
    /// measures how fast it drains that backlog, beside a plain PostgreSQL COPY of as many rows.
    /// </summary>
    private static async Task DrainAsync(string runDir, CpuMeter cpu, string pg, string redis, string ingress, string script, string window, int seconds)
    {
        var tally = await SidecarPidAsync(runDir, "tally") ?? throw new InvalidOperationException("no tally in run.json");
        var fraud = await SidecarPidAsync(runDir, "fraud");
        await WaitLedgerStableAsync(pg, window);
        var before = await LedgerCountAsync(pg, window);
        Signal("STOP", tally);
        if (fraud is { } f)
        {
            Signal("STOP", f);
        }

        WrkResult load;
        Dictionary<string, double> cpuBefore, cpuAfter;
        try
        {
            cpuBefore = cpu.Snapshot();
            load = await WrkAsync(ingress, script, 64, seconds);
            cpuAfter = cpu.Snapshot();
        }
        finally
        {
            Signal("CONT", tally);
        }

        var accepted = before + load.Total - load.Non2xx;
        var backlog = accepted - await LedgerCountAsync(pg, window);
        var drainBefore = cpu.Snapshot();
        var sw = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (await LedgerCountAsync(pg, window) < accepted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var drained = sw.Elapsed;
        var drainAfter = cpu.Snapshot();
        if (fraud is { } resumed)
        {
            // The fraud service catches up on its backlog before anything else is measured.
            Signal("CONT", resumed);
            await WaitConsumerGroupAsync(redis, "votes", "fraud", TimeSpan.FromMinutes(3));
        }

        var copyRate = await CopyBaselineAsync(pg, (int)Math.Max(backlog, 50_000));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingress tier alone (tally and fraud paused, votes queue in the broker), 64 connections: {load.RequestsPerSecond:N0} votes/s, p50 {load.P50Ms:F2} ms, p99 {load.P99Ms:F2} ms, non-2xx {load.Non2xx}"));
        PrintBreakdown("ingress tier alone", CpuMeter.PerVote(cpuBefore, cpuAfter, load.Total));
        Console.WriteLine();
        Console.WriteLine("| store | rows | s | rows/s |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| tally drains a backlog (bulk subscribe → COPY → counts) | {backlog:N0} | {drained.TotalSeconds:F2} | {backlog / drained.TotalSeconds:N0} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| plain PostgreSQL binary COPY of the same rows, uuid primary key | {copyRate.Rows:N0} | {copyRate.Seconds:F2} | {copyRate.Rows / copyRate.Seconds:N0} |"));
        PrintBreakdown("tally drain", CpuMeter.PerVote(drainBefore, drainAfter, backlog));
    }

    /// <summary>The StackExchange.Redis configuration of the `up` under test: its host and, when set, its password (from secrets.env).</summary>
    internal static string RedisConnection(string host, IReadOnlyDictionary<string, string> secrets) =>
        host + (secrets.TryGetValue("FANVOTE_REDIS_PASSWORD", out var pw) && pw.Length > 0 ? ",password=" + pw : "");

    /// <summary>The pid of <paramref name="app"/>'s sidecar in the `up` of <paramref name="runDir"/> (its run.json), or null.</summary>
    internal static async Task<int?> SidecarPidAsync(string runDir, string app)
    {
        using var run = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(runDir, "run.json")));
        return run.RootElement.EnumerateArray().Where(a => a.GetProperty("AppId").GetString() == app)
            .Select(a => (int?)a.GetProperty("SidecarPid").GetInt32()).FirstOrDefault();
    }

    /// <summary>Until the consumers of `votes` (tally, fraud) have caught up with the broker, then a second more.</summary>
    internal static async Task QuietAsync(string redis)
    {
        foreach (var group in new[] { "tally", "fraud" })
        {
            await WaitConsumerGroupAsync(redis, "votes", group, TimeSpan.FromMinutes(3));
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
    }

    /// <summary>Waits until <paramref name="group"/> has read and acknowledged every entry of <paramref name="stream"/>.</summary>
    internal static async Task WaitConsumerGroupAsync(string redis, string stream, string group, TimeSpan timeout)
    {
        await using var mux = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis);
        var db = mux.GetDatabase();
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            // Caught up = nothing pending and the group's last delivered id is the stream's last id. (XINFO's `lag` is
            // not used: it turns null once the stream trimmer has removed entries, which would wait out the timeout.)
            var last = (await db.StreamInfoAsync(stream)).LastGeneratedId;
            var info = (await db.StreamGroupInfoAsync(stream)).FirstOrDefault(g => g.Name == group);
            if (info.Name is null || (info.PendingMessageCount == 0 && info.LastDeliveredId == last))
            {
                return;
            }

            await Task.Delay(200);
        }
    }

    private static void PrintBreakdown(string name, IEnumerable<(string Group, double MicrosPerVote)> perVote)
    {
        var parts = perVote.ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  CPU per vote, {name}: {parts.Sum(p => p.MicrosPerVote):F0} µs = {string.Join(", ", parts.Select(p => $"{p.Group} {p.MicrosPerVote:F0}"))}"));
    }

    /// <summary>
    /// Accept → visible: time from a 202 until the results stream shows the vote in the total, for up to
    /// <paramref name="samples"/> votes one at a time (stopping early once <paramref name="until"/> is done), sorted.
    /// </summary>
    private static async Task<List<double>> VisibleLatencyAsync(string ingress, string results, List<string> tokens, string window, int samples, Task? until = null)
    {
        using var stream = await Http.GetStreamAsync(new Uri($"{results}/v1/windows/{window}/results/stream"));
        using var reader = new StreamReader(stream);
        long total = -1;
        async Task<long> NextTotalAsync()
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    using var doc = JsonDocument.Parse(line[6..]);
                    return doc.RootElement.GetProperty("total").GetInt64();
                }
            }

            throw new EndOfStreamException("results stream closed");
        }

        total = await NextTotalAsync();
        var latencies = new List<double>();
        for (var i = 0; i < samples && until?.IsCompleted != true; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{ingress}/v1/windows/{window}/votes")
            {
                Content = new StringContent($$"""{"candidateId":"{{Candidates[i % Candidates.Length]}}"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new("Bearer", tokens[i % tokens.Count]);
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
            using var r = await Http.SendAsync(request);
            var accepted = Stopwatch.GetTimestamp();
            if ((int)r.StatusCode != 202)
            {
                continue;
            }

            var expected = total + 1;
            while ((total = Math.Max(total, await NextTotalAsync())) < expected)
            {
            }

            latencies.Add(Stopwatch.GetElapsedTime(accepted).TotalMilliseconds);
        }

        latencies.Sort();
        return latencies;
    }

    internal static double Pct(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static async Task<(long Rows, double Seconds)> CopyBaselineAsync(string pg, int rows)
    {
        await using var db = NpgsqlDataSource.Create(pg);
        await using var conn = await db.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand("CREATE TEMP TABLE copy_bench (vote_id uuid PRIMARY KEY, window_id text, candidate_id text, account_id text, device_id text, ip text, accepted_at timestamptz, account_created_at timestamptz)", conn))
        {
            await create.ExecuteNonQueryAsync();
        }

        var now = DateTime.UtcNow;
        var sw = Stopwatch.StartNew();
        await using (var copy = await conn.BeginBinaryImportAsync("COPY copy_bench FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < rows; i++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid);
                await copy.WriteAsync("bench", NpgsqlDbType.Text);
                await copy.WriteAsync(Candidates[i % 4], NpgsqlDbType.Text);
                await copy.WriteAsync("g_0123456789abcdef01234567", NpgsqlDbType.Text);
                await copy.WriteAsync("device-" + (i % 5000), NpgsqlDbType.Text);
                await copy.WriteAsync("10.1.2.3", NpgsqlDbType.Text);
                await copy.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(now, NpgsqlDbType.TimestampTz);
            }

            await copy.CompleteAsync();
        }

        return (rows, sw.Elapsed.TotalSeconds);
    }

    private static async Task WaitLedgerStableAsync(string pg, string window)
    {
        long last = -1, now;
        while ((now = await LedgerCountAsync(pg, window)) != last)
        {
            last = now;
            await Task.Delay(1000);
        }
    }

    internal static async Task<long> LedgerCountAsync(string pg, string window)
    {
        await using var db = NpgsqlDataSource.Create(pg);
        return await LedgerCountAsync(db, window);
    }

    internal static async Task<long> LedgerCountAsync(NpgsqlDataSource db, string window)
    {
        ArgumentNullException.ThrowIfNull(db);
        await using var cmd = db.CreateCommand("SELECT coalesce((SELECT persisted FROM window_totals WHERE window_id = $1), 0)");
        cmd.Parameters.AddWithValue(window);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    internal static void Signal(string signal, int pid)
    {
        using var p = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)])!;
        p.WaitForExit();
    }

    internal static async Task CreateWindowAsync(string orchestrator, string key, string window)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{orchestrator}/v1/windows")
        {
            Content = JsonContent.Create(new
            {
                windowId = window, title = "Benchmark", candidates = Candidates,
                opensAt = DateTimeOffset.UtcNow.AddSeconds(-1), closesAt = DateTimeOffset.UtcNow.AddHours(2), votesPerAccount = 10_000,
            }),
        };
        request.Headers.Add("X-Operator-Key", key);
        using var r = await Http.SendAsync(request);
        r.EnsureSuccessStatusCode();
        await Task.Delay(1000); // ingress learns the schedule from window-events
    }

    /// <summary>
    /// One token per fan, signed with the deployment's token key as ingress signs them (sign-in is rate-limited per
    /// client address, and the load generator is one address): the same tokens a fan's app would hold.
    /// </summary>
    internal static List<string> Tokens(string tokenKeys, string window, int n)
    {
        var ring = FanVote.Security.SessionKeyRing.Load(tokenKeys, new FanVote.Security.KeySet(allowDevelopmentKeys: false));
        using var tokens = new FanVote.Security.SessionTokens(ring, TimeSpan.FromHours(1), TimeProvider.System);
        return [.. Enumerable.Range(0, n).Select(i => tokens.Issue($"g_bench_{window}_{i}", $"{window}-{i}", FanVote.Security.SessionKind.Guest, DateTimeOffset.UtcNow.AddDays(-30), FanVote.Security.FanConsent.Voting))];
    }

    internal static Dictionary<string, string> EnvFile(string path) =>
        File.ReadAllLines(path).Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);

    internal static string Lua(IReadOnlyList<string> tokens, string window) => $$"""
        -- wrk script: every request is a new vote (its own Idempotency-Key) from a random fan, each fan on its own /24.
        local tokens = { {{string.Join(",", tokens.Select(t => $"\"{t}\""))}} }
        local cands = { "aurora", "blaze", "comet", "dune" }
        local n = 0
        local threads = 0
        function setup(thread)
          thread:set("tid", threads)
          threads = threads + 1
        end
        function init(args)
          math.randomseed(os.time() + (tid or 0) * 7919)
        end
        function request()
          n = n + 1
          -- Each fan keeps one address: a fan whose votes hop across networks looks like a bot (ip-rotation).
          local i = math.random(#tokens)
          local headers = {
            ["Authorization"] = "Bearer " .. tokens[i],
            ["Idempotency-Key"] = (tid or 0) .. "-" .. n .. "-" .. math.random(1, 1000000000),
            ["Content-Type"] = "application/json",
            ["X-Forwarded-For"] = "10." .. (i % 256) .. "." .. (math.floor(i / 256) % 256) .. ".7",
          }
          return wrk.format("POST", "/v1/windows/{{window}}/votes", headers, '{"candidateId":"' .. cands[math.random(#cands)] .. '"}')
        end
        """;

    /// <summary>
    /// The direct host (<see cref="DirectEndpoint"/>) with the environment the launcher gives ingress
    /// (<see cref="FanVote.Launcher.EnvPlan"/> over app.env and secrets.env: ingress's secrets and app token, no other
    /// app's), no warm-up, its output in logs/direct.log.
    /// </summary>
    private static Process StartDirect(string runDir, Dictionary<string, string> secrets, Dictionary<string, string> appEnv, int port)
    {
        var psi = new ProcessStartInfo("dotnet", [typeof(PipelineBench).Assembly.Location, "direct", "--port", port.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var k in psi.Environment.Keys.Where(FanVote.Launcher.EnvPlan.IsSecret).ToList())
        {
            psi.Environment.Remove(k);
        }

        var given = new Dictionary<string, string>(appEnv, StringComparer.Ordinal);
        foreach (var (k, v) in secrets)
        {
            given[k] = v;
        }

        foreach (var (k, v) in FanVote.Launcher.EnvPlan.For(AppIds.Ingress, sidecar: false, given))
        {
            psi.Environment[k] = v;
        }

        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        psi.Environment["FanVote__WarmUpSeconds"] = "0";
        psi.Environment["DAPR_GRPC_PORT"] = "1"; // nothing on the direct path talks to a sidecar
        psi.Environment["DAPR_HTTP_PORT"] = "1";
        var log = new StreamWriter(Path.Combine(runDir, "logs", "direct.log"), append: false) { AutoFlush = true };
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (e.Data is { } line) { lock (log) { log.WriteLine(line); } } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { lock (log) { log.WriteLine(line); } } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.Exited += (_, _) => { lock (log) { log.Dispose(); } };
        p.EnableRaisingEvents = true;
        return p;
    }

    /// <summary>Votes once (a fan of <paramref name="window"/>) until the answer is 202: the window is known there.</summary>
    private static async Task WaitAcceptedAsync(string baseUrl, string window, string token)
    {
        var last = "";
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/v1/windows/{window}/votes")
                {
                    Content = new StringContent($$"""{"candidateId":"{{Candidates[0]}}"}""", Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new("Bearer", token);
                request.Headers.Add("Idempotency-Key", "bench-ready-" + i.ToString(CultureInfo.InvariantCulture));
                using var r = await Http.SendAsync(request);
                if (r.StatusCode == System.Net.HttpStatusCode.Accepted)
                {
                    return;
                }

                last = $"{(int)r.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"{baseUrl} did not accept a vote for {window} within 60 s (last answer: {last}; see .fanvote/run/logs)");
    }

    private static async Task WaitHttpAsync(string url)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var r = await Http.PostAsync(new Uri(url), new StringContent("{}"));
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }
    }

    internal static async Task<WrkResult> WrkAsync(string baseUrl, string script, int connections, int seconds)
    {
        var psi = new ProcessStartInfo("wrk", ["-t2", $"-c{connections}", $"-d{seconds}s", "--latency", "--timeout", "10s", "-s", script, baseUrl])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        var rps = double.Parse(RpsPattern().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var total = long.Parse(TotalPattern().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var non2xx = NonPattern().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return new WrkResult("", rps, Latency(output, "50%"), Latency(output, "99%"), total, non2xx);
    }

    private static double Latency(string output, string pct)
    {
        var m = Regex.Match(output, $@"^\s*{Regex.Escape(pct)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!m.Success)
        {
            return double.NaN;
        }

        var v = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => v / 1000, "s" => v * 1000, _ => v };
    }

    internal sealed record WrkResult(string Name, double RequestsPerSecond, double P50Ms, double P99Ms, long Total, long Non2xx);

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RpsPattern();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex TotalPattern();

    [GeneratedRegex("reason=\"([^\"]*)\"")]
    private static partial Regex RefusalReason();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex NonPattern();
}
