using System.Diagnostics;
using System.Globalization;

namespace FanVote.Bench;

/// <summary>
/// A freshly started ingress, and a freshly started tally draining a backlog, beside the same process warm, against
/// a running `./fanvote up --release`: the rate in each second from the first vote, and the share of the warm rate
/// reached within 2 s (the aim: 80 %). Only the app is restarted (`./fanvote restart APP`); its sidecar stays up, as
/// daprd (a Go process, no JIT) beside a new pod would be ready at once.
/// </summary>
public static class ColdStartBench
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static async Task<int> RunAsync(BenchArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var runDir = args.Require("run-dir");
        var fanvote = args.Require("fanvote");
        var secrets = PipelineBench.EnvFile(Path.Combine(runDir, "secrets.env"));
        var appEnv = PipelineBench.EnvFile(Path.Combine(runDir, "app.env"));
        var pg = appEnv["FANVOTE_PG_CONNECTION"];
        var redis = PipelineBench.RedisConnection(appEnv["FANVOTE_REDIS_HOST"], secrets);
        var connections = args.Number("connections", 256);
        var seconds = args.Number("seconds", 10);
        var ingress = args.Get("ingress", "http://127.0.0.1:5080");
        var appToken = secrets.GetValueOrDefault("FANVOTE_APP_TOKEN_INGRESS", "");
        var window = "cold-" + Guid.NewGuid().ToString("N")[..6];
        await PipelineBench.CreateWindowAsync(args.Get("orchestrator", "http://127.0.0.1:5082"), secrets["FANVOTE_OPERATOR_KEY"], window);
        var tokens = PipelineBench.Tokens(secrets["FANVOTE_TOKEN_KEYS"], window, args.Number("accounts", 5000));
        var script = Path.Combine(runDir, "cold.lua");
        await File.WriteAllTextAsync(script, PipelineBench.Lua(tokens, window));
        Console.WriteLine($"FanVote cold-start benchmark — {Environment.ProcessorCount} cores, wrk -t2 -c{connections}, window {window}; an app restarted fresh (its sidecar stays up), then loaded at once");
        Console.WriteLine();

        Task QuietAsync() => PipelineBench.QuietAsync(redis);
        var tallySidecar = await PipelineBench.SidecarPidAsync(runDir, "tally") ?? throw new InvalidOperationException("no tally in run.json");
        var fraudSidecar = await PipelineBench.SidecarPidAsync(runDir, "fraud") ?? throw new InvalidOperationException("no fraud in run.json");
        // Settings to compare (--variants "|DOTNET_TieredPGO=0|A=1,B=2": '|' between variants, ',' within; empty = as
        // configured), each added to --app-env for the fresh process.
        var variants = args.Get("variants", "").Split('|').Select(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

        // Ingress is measured as a tier alone (the tally's and fraud's sidecars paused, votes queue in the broker), so
        // the consumers' work does not make its rate swing from second to second.
        async Task<Series> IngressAsync()
        {
            PipelineBench.Signal("STOP", tallySidecar);
            PipelineBench.Signal("STOP", fraudSidecar);
            try
            {
                return await SampleAsync(() => AcceptedAsync(ingress, appToken), () => PipelineBench.WrkAsync(ingress, script, connections, seconds), 1);
            }
            finally
            {
                PipelineBench.Signal("CONT", tallySidecar);
                PipelineBench.Signal("CONT", fraudSidecar);
                await QuietAsync();
            }
        }

        async Task<string> PrimeScriptAsync(string other)
        {
            var path = Path.Combine(runDir, "prime.lua");
            await File.WriteAllTextAsync(path, PipelineBench.Lua(tokens, other));
            return path;
        }

        // Warm: long enough for every process of the vote path to reach its optimized code, then measured.
        await PipelineBench.WrkAsync(ingress, script, connections, 30);
        await QuietAsync();
        var warm = await IngressAsync();
        if (Steady(warm) <= 0)
        {
            Console.Error.WriteLine($"the warm ingress accepted no vote for window {window} (see .fanvote/run/logs/ingress.app.log)");
            return 1;
        }

        foreach (var variant in variants)
        {
            var restart = Stopwatch.StartNew();
            await RunAsync(fanvote, ["restart", "ingress", .. args.All("app-env"), .. variant]);
            var ready = restart.Elapsed;
            if (args.Number("prime-seconds", 0) is > 0 and var prime)
            {
                // What a perfect warm-up would do: real votes at low concurrency before the load.
                await PipelineBench.WrkAsync(ingress, args.Get("prime-window", "") is { Length: > 0 } other ? await PrimeScriptAsync(other) : script, args.Number("prime-connections", 8), prime);
                await QuietAsync();
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            var cold = await IngressAsync();
            var name = $"ingress accepts votes (202/s){(variant.Length > 0 ? ", fresh process with " + string.Join(' ', variant) : "")}";
            Print(name, warm, cold, ready);
            if (variant.Length > 0)
            {
                // A setting may change the warm rate too: the same process once warm, beside the default's.
                await PipelineBench.WrkAsync(ingress, script, connections, 30);
                await QuietAsync();
                var own = await IngressAsync();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"the same process warm: {Steady(own):N0}/s, {Steady(own) / Steady(warm):P0} of the default's steady"));
                Console.WriteLine();
            }
        }

        if (args.Get("tally", "yes") == "no")
        {
            return 0;
        }

        // Tally: a backlog built with the tally's sidecar paused, drained by the warm process, then by a fresh one. It
        // must take the warm tally several seconds (tally drains about ten times as fast as ingress accepts).
        var backlogSeconds = args.Number("backlog-seconds", 60);
        await using var ledger = Npgsql.NpgsqlDataSource.Create(pg);
        async Task<Series> DrainAsync(bool restartTally)
        {
            // The fresh tally is started first (it talks to its sidecar while starting), then sees no vote until the backlog comes.
            TimeSpan? r = null;
            if (restartTally)
            {
                var sw = Stopwatch.StartNew();
                await RunAsync(fanvote, ["restart", "tally", .. args.All("app-env")]);
                r = sw.Elapsed;
            }

            PipelineBench.Signal("STOP", tallySidecar);
            try
            {
                await PipelineBench.WrkAsync(ingress, script, connections, backlogSeconds);
            }
            finally
            {
                PipelineBench.Signal("CONT", tallySidecar);
            }

            var series = await SampleAsync(() => PipelineBench.LedgerCountAsync(ledger, window), () => WaitDrainedAsync(redis), 0.25);
            return series with { Ready = r };
        }

        var warmDrain = await DrainAsync(restartTally: false);
        await QuietAsync();
        var coldDrain = await DrainAsync(restartTally: true);
        Print("tally drains a backlog (votes in the ledger/s)", warmDrain, coldDrain, coldDrain.Ready ?? TimeSpan.Zero);
        return 0;
    }

    /// <summary>
    /// A counter sampled every 20 ms while <paramref name="load"/> runs, as a rate per second in buckets of
    /// <paramref name="bucket"/> seconds from the first one counted.
    /// </summary>
    private static async Task<Series> SampleAsync(Func<Task<long>> counter, Func<Task> load, double bucket)
    {
        var samples = new List<(double T, long Count)>();
        var clock = Stopwatch.StartNew();
        var start = await counter();
        var running = load();
        while (!running.IsCompleted)
        {
            samples.Add((clock.Elapsed.TotalSeconds, await counter() - start));
            await Task.WhenAny(running, Task.Delay(20));
        }

        await running;
        samples.Add((clock.Elapsed.TotalSeconds, await counter() - start));
        var first = samples.FindIndex(s => s.Count > 0);
        if (first < 0)
        {
            return new Series([], 0, null, bucket);
        }

        // t0: the first sample with a vote counted; second k = what was counted in (t0 + k - 1, t0 + k].
        var t0 = first > 0 ? samples[first - 1].T : samples[first].T;
        long At(double t)
        {
            var i = samples.FindLastIndex(s => s.T <= t);
            return i < 0 ? 0 : samples[i].Count;
        }

        var end = samples[^1].T;
        var perSecond = new List<double>();
        for (var k = 1; t0 + k * bucket <= end; k++)
        {
            perSecond.Add((At(t0 + k * bucket) - At(t0 + (k - 1) * bucket)) / bucket);
        }

        // Only the whole buckets under load count: the last one may be cut by the end of the run or the drain.
        var busy = perSecond.Count > 2 ? perSecond.Take(perSecond.Count - 1).ToList() : perSecond;
        return new Series(busy, samples[^1].Count / Math.Max(0.001, end - t0), null, bucket);
    }

    private static void Print(string what, Series warm, Series cold, TimeSpan ready)
    {
        // Steady: the warm process's rate without its first bucket. Aim: the fresh process's rate over its second
        // second from the first vote (it has reached the rate within 2 s) is at least 80 % of that.
        var steady = Steady(warm);
        var perBucket = (int)Math.Round(1 / cold.Bucket);
        var second2 = cold.PerSecond.Skip(perBucket).Take(perBucket).DefaultIfEmpty(0).Average();
        var first = cold.PerSecond.Take(perBucket).DefaultIfEmpty(0).Average();
        static string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);
        Console.WriteLine($"## {what}");
        Console.WriteLine($"warm process, steady: {N(steady)}/s ({warm.Bucket:0.##} s buckets: {string.Join(" ", warm.PerSecond.Skip(1).Select(N))})");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fresh process (restart to ready: {ready.TotalSeconds:F1} s), from its first vote, in {cold.Bucket:0.##} s buckets:"));
        Console.WriteLine("| from | rate/s | of steady |");
        Console.WriteLine("|---:|---:|---:|");
        for (var i = 0; i < cold.PerSecond.Count; i++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {i * cold.Bucket:0.##} s | {N(cold.PerSecond[i])} | {cold.PerSecond[i] / steady:P0} |"));
        }

        if (cold.PerSecond.Count < 2 * perBucket)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"first second {first / steady:P0} of steady; the run ended within {cold.PerSecond.Count * cold.Bucket:0.##} s of the first vote, too short to judge the aim (for tally: a larger --backlog-seconds)"));
            Console.WriteLine();
            return;
        }

        var verdict = second2 >= 0.8 * steady ? "PASS" : "FAIL";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"first second {first / steady:P0} of steady, second second {second2 / steady:P0} (aim: ≥ 80 % within 2 s of the first vote): {verdict}"));
        Console.WriteLine();
    }

    private static double Steady(Series warm) => warm.PerSecond.Count > 2 ? warm.PerSecond.Skip(1).Average() : warm.Average;

    private static async Task<long> AcceptedAsync(string ingress, string appToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{ingress}/metrics");
        request.Headers.Authorization = new("Bearer", appToken);
        try
        {
            using var response = await Http.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"GET /metrics answered {(int)response.StatusCode} (is FANVOTE_APP_TOKEN_INGRESS in secrets.env?)");
            }

            var text = await response.Content.ReadAsStringAsync();
            return text.Split('\n')
                .Where(l => l.StartsWith("fanvote_ingress_votes_accepted", StringComparison.Ordinal))
                .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        }
        catch (HttpRequestException)
        {
            return 0; // the fresh process is not listening yet
        }
    }

    private static async Task WaitDrainedAsync(string redis) =>
        await PipelineBench.WaitConsumerGroupAsync(redis, "votes", "tally", TimeSpan.FromMinutes(3));

    private static async Task RunAsync(string file, string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await stdout}{await stderr}");
        }
    }

    private sealed record Series(IReadOnlyList<double> PerSecond, double Average, TimeSpan? Ready, double Bucket);
}
