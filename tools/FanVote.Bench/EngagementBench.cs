using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Security;

namespace FanVote.Bench;

/// <summary>
/// The points economy under load, against a running `./fanvote up`: spins on one wheel by one account and by many
/// accounts (each spin a ledger transaction under the chain lock), beside the rate at which the same rewards host answers
/// a fan's balance (token check + one PostgreSQL read) in the same run. Prints spins/s, p50/p99 latency, CPU per spin
/// of rewards and PostgreSQL, and checks that every spin answered 201 is in the wheel's report and no balance went
/// below zero.
/// </summary>
public static class EngagementBench
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<int> RunAsync(BenchArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var runDir = args.Require("run-dir");
        var secrets = PipelineBench.EnvFile(Path.Combine(runDir, "secrets.env"));
        var rewards = args.Get("rewards", "http://127.0.0.1:5085");
        var seconds = args.Number("seconds", 10);
        var accounts = args.Number("accounts", 1000);
        var concurrency = args.Number("concurrency", 64);
        var operatorKey = secrets["FANVOTE_OPERATOR_KEY"];
        var tag = Guid.NewGuid().ToString("N")[..6];
        var wheel = "bench-" + tag;

        using (var create = new HttpRequestMessage(HttpMethod.Post, $"{rewards}/v1/wheels")
        {
            Content = JsonContent.Create(new
            {
                wheelId = wheel, name = "Benchmark wheel", cost = 10,
                segments = new[] { new { label = "nothing", weight = 60, prize = 0 }, new { label = "five", weight = 30, prize = 5 }, new { label = "thirty", weight = 10, prize = 30 } },
            }),
        })
        {
            create.Headers.Add("X-Operator-Key", operatorKey);
            using var r = await Http.SendAsync(create);
            r.EnsureSuccessStatusCode();
        }

        var fans = Enumerable.Range(0, accounts).Select(i => $"g_bench_{tag}_{i}").ToList();
        var ring = SessionKeyRing.Load(secrets["FANVOTE_TOKEN_KEYS"], new KeySet(allowDevelopmentKeys: false));
        using var issuer = new SessionTokens(ring, TimeSpan.FromHours(1), TimeProvider.System);
        var tokens = fans.Select(a => issuer.Issue(a, "bench-device", SessionKind.Guest, DateTimeOffset.UtcNow.AddDays(-30), new FanConsent(PurposeNames.NeededToVote | Purposes.Rewards, AgeBand.Unknown))).ToList();

        // Points as the orchestrator's goodwill credit gives them (only the orchestrator may publish reward-requests).
        var orchestratorSidecar = await SidecarHttpPortAsync(runDir, AppIds.Orchestrator);
        var perFan = 100_000L;
        await Task.WhenAll(fans.Select(async (a, i) =>
        {
            using var publish = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{orchestratorSidecar}/v1.0/publish/{ComponentNames.VoteBus}/{Topics.RewardRequests}")
            {
                Content = JsonContent.Create(new RewardRequested
                {
                    EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = "bench-points-" + tag, AccountId = a, Reason = "bench", Points = i == 0 ? 10 * perFan : perFan,
                }, options: FanVoteJson.Options),
            };
            publish.Headers.Add("dapr-api-token", secrets["DAPR_API_TOKEN"]);
            using var r = await Http.SendAsync(publish);
            r.EnsureSuccessStatusCode();
        }));
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (await BalanceAsync(rewards, tokens[^1]) < perFan)
        {
            if (DateTime.UtcNow > deadline)
            {
                Console.Error.WriteLine("the benchmark's points did not reach the last account within 3 minutes");
                return 1;
            }

            await Task.Delay(500);
        }

        Console.WriteLine($"FanVote engagement benchmark — {Environment.ProcessorCount} cores, {seconds} s per run, {concurrency} requests in flight, wheel {wheel} (cost 10, expected payout 4.5), {accounts} accounts");
        Console.WriteLine();
        var cpu = new CpuMeter(runDir);

        // Warm-up: JIT, connection pools.
        var (warm, _) = await LoadAsync("warm-up", TimeSpan.FromSeconds(2), 8, i => Spin(rewards, wheel, tokens[0], $"warm-{i:D8}"));

        var runs = new List<(RunResult Run, Dictionary<string, double> Cpu, int Refused)>();
        runs.Add(await MeasureAsync(cpu, "balance read (baseline, same host)", seconds, concurrency, i => Balance(rewards, tokens[i % tokens.Count])));
        var keys = 0;
        runs.Add(await MeasureAsync(cpu, "spins, one account", seconds, concurrency, _ => Spin(rewards, wheel, tokens[0], $"one-{Interlocked.Increment(ref keys):D10}")));
        runs.Add(await MeasureAsync(cpu, $"spins, {accounts} accounts", seconds, concurrency, i => Spin(rewards, wheel, tokens[i % tokens.Count], $"many-{Interlocked.Increment(ref keys):D10}")));

        Console.WriteLine(RunResult.Header());
        foreach (var (run, _, _) in runs)
        {
            Console.WriteLine(run.Row());
        }

        Console.WriteLine();
        Console.WriteLine("CPU per answered request, µs (rewards app, its sidecar, PostgreSQL):");
        foreach (var (run, use, refused) in runs)
        {
            double Per(string group) => use.GetValueOrDefault(group) / Math.Max(1, run.Messages) * 1e6;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {run.Name,-36} rewards {Per("app:rewards"),7:F0}   sidecar {Per("sidecar:rewards"),5:F0}   postgres {Per("postgres"),7:F0}   (refused: {refused})"));
        }

        // Every 201 is a spin in the wheel's report; nobody went below zero.
        using var reportRequest = new HttpRequestMessage(HttpMethod.Get, $"{rewards}/v1/wheels/{wheel}/report");
        reportRequest.Headers.Add("X-Operator-Key", operatorKey);
        using var reportAnswer = await Http.SendAsync(reportRequest);
        var report = await reportAnswer.Content.ReadFromJsonAsync<JsonElement>();
        var spun = runs.Skip(1).Sum(r => r.Run.Messages) + warm.Messages;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"spins answered 201: {spun:N0}; in the wheel's report: {report.GetProperty("spins").GetInt64():N0}; realised house edge {report.GetProperty("realisedHouseEdge").GetDecimal():P2} (published {report.GetProperty("expectedHouseEdge").GetDecimal():P2})"));
        var ok = report.GetProperty("spins").GetInt64() == spun;
        Console.WriteLine(ok ? "every spin answered 201 is in the ledger once" : "MISMATCH: spins answered 201 and spins in the report differ");
        return ok ? 0 : 1;
    }

    private static async Task<(RunResult, Dictionary<string, double>, int)> MeasureAsync(CpuMeter cpu, string name, int seconds, int concurrency, Func<int, Task<(HttpStatusCode, double)>> call)
    {
        await Task.Delay(1000); // let the previous run's tail settle
        var before = cpu.Snapshot();
        var (run, refused) = await LoadAsync(name, TimeSpan.FromSeconds(seconds), concurrency, call);
        var after = cpu.Snapshot();
        return (run, after.ToDictionary(kv => kv.Key, kv => kv.Value - before.GetValueOrDefault(kv.Key)), refused);
    }

    /// <summary><paramref name="concurrency"/> loops calling for <paramref name="duration"/>: successes counted with their latency, refusals apart.</summary>
    private static async Task<(RunResult, int)> LoadAsync(string name, TimeSpan duration, int concurrency, Func<int, Task<(HttpStatusCode Status, double Ms)>> call)
    {
        var latencies = new ConcurrentBag<double>();
        var refused = 0;
        var clock = Stopwatch.StartNew();
        var n = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                var (status, ms) = await call(Interlocked.Increment(ref n));
                if (status is HttpStatusCode.OK or HttpStatusCode.Created)
                {
                    latencies.Add(ms);
                }
                else
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }));
        return (new RunResult(name, latencies.Count, clock.Elapsed, [.. latencies]), refused);
    }

    private static async Task<(HttpStatusCode, double)> Spin(string rewards, string wheel, string token, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{rewards}/v1/wheels/{wheel}/spins") { Content = JsonContent.Create(new { spinKey = key, clientSeed = "bench" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var t = Stopwatch.GetTimestamp();
        using var r = await Http.SendAsync(request);
        await r.Content.LoadIntoBufferAsync();
        return (r.StatusCode, Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    }

    private static async Task<(HttpStatusCode, double)> Balance(string rewards, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{rewards}/v1/me/balance");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var t = Stopwatch.GetTimestamp();
        using var r = await Http.SendAsync(request);
        await r.Content.LoadIntoBufferAsync();
        return (r.StatusCode, Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    }

    private static async Task<long> BalanceAsync(string rewards, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{rewards}/v1/me/balance");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var r = await Http.SendAsync(request);
        return r.IsSuccessStatusCode ? (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("balance").GetInt64() : 0;
    }

    private static async Task<int> SidecarHttpPortAsync(string runDir, string appId)
    {
        using var run = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(runDir, "run.json")));
        return run.RootElement.EnumerateArray().First(a => a.GetProperty("AppId").GetString() == appId).GetProperty("DaprHttpPort").GetInt32();
    }
}
