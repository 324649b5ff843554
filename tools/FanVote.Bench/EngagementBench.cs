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

        var triviaOk = await TriviaAsync(rewards, operatorKey, ring, tag, args.Number("trivia-fans", 10_000), args.Number("trivia-seconds", 10), concurrency);

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

        // Close the bench's wheel (its seed revealed), so it leaves the show's lineup (GET /v1/live) of the system it ran on.
        using var closeRequest = new HttpRequestMessage(HttpMethod.Post, $"{rewards}/v1/wheels/{wheel}/close");
        closeRequest.Headers.Add("X-Operator-Key", operatorKey);
        using var closed = await Http.SendAsync(closeRequest);
        return ok && triviaOk && closed.IsSuccessStatusCode ? 0 : 1;
    }

    /// <summary>
    /// <paramref name="fans"/> fans answer one trivia question inside its <paramref name="seconds"/>-second window (each
    /// once, <paramref name="concurrency"/> in flight, spread over the window); then the scoring: every accepted answer
    /// scored exactly once, and answer → on the leaderboard per answer (the question is scored after its close).
    /// </summary>
    private static async Task<bool> TriviaAsync(string rewards, string operatorKey, IReadOnlyList<(string Kid, byte[] Key)> ring, string tag, int fans, int seconds, int concurrency)
    {
        var round = "bench-quiz-" + tag;
        var opensAt = DateTimeOffset.UtcNow.AddSeconds(3);
        using (var create = new HttpRequestMessage(HttpMethod.Post, $"{rewards}/v1/trivia")
        {
            Content = JsonContent.Create(new
            {
                roundId = round, title = "Benchmark quiz", startsAt = opensAt, gapSeconds = 0,
                questions = new[] { new { text = "Which?", correct = "b", seconds, options = new[] { new { optionId = "a", label = "A" }, new { optionId = "b", label = "B" }, new { optionId = "c", label = "C" } } } },
            }),
        })
        {
            create.Headers.Add("X-Operator-Key", operatorKey);
            using var r = await Http.SendAsync(create);
            r.EnsureSuccessStatusCode();
        }

        using var issuer = new SessionTokens(ring, TimeSpan.FromHours(1), TimeProvider.System);
        var tokens = Enumerable.Range(0, fans).Select(i => issuer.Issue($"g_quiz_{tag}_{i}", "bench-device", SessionKind.Guest, DateTimeOffset.UtcNow.AddDays(-30), FanConsent.Voting)).ToList();
        var closesAt = opensAt.AddSeconds(seconds);
        while (DateTimeOffset.UtcNow < opensAt.AddMilliseconds(100))
        {
            await Task.Delay(20);
        }

        // Each fan answers once, at a time spread over the first 80 % of the window (as an audience does), as fast as the
        // host takes them: the accepted ones are stamped with when the answer was accepted.
        var accepted = new ConcurrentBag<(DateTimeOffset At, double Ms)>();
        var late = 0;
        var other = 0;
        var next = -1;
        var clock = Stopwatch.StartNew();
        var spread = TimeSpan.FromSeconds(seconds * 0.8);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < fans)
            {
                var due = spread * i / fans;
                if (clock.Elapsed < due)
                {
                    await Task.Delay(due - clock.Elapsed);
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, $"{rewards}/v1/trivia/{round}/answers") { Content = JsonContent.Create(new { question = 0, choice = i % 3 == 0 ? "a" : "b" }) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[i]);
                var t = Stopwatch.GetTimestamp();
                using var r = await Http.SendAsync(request);
                var ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                if (r.StatusCode == HttpStatusCode.Created)
                {
                    accepted.Add((DateTimeOffset.UtcNow, ms));
                }
                else if (r.StatusCode == HttpStatusCode.Conflict)
                {
                    Interlocked.Increment(ref late);
                }
                else
                {
                    Interlocked.Increment(ref other);
                }
            }
        }));
        var answering = clock.Elapsed;

        // Until every accepted answer is scored, as the leaderboard reports.
        long answers = 0, scored = 0;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            var board = await Http.GetFromJsonAsync<JsonElement>($"{rewards}/v1/trivia/{round}/leaderboard?top=3");
            (answers, scored) = (board.GetProperty("answers").GetInt64(), board.GetProperty("answersScored").GetInt64());
            if (answers > 0 && scored == answers)
            {
                break;
            }

            await Task.Delay(50);
        }

        var visible = DateTimeOffset.UtcNow;
        var latencies = accepted.Select(a => (visible - a.At).TotalMilliseconds).ToArray();
        var accept = new RunResult($"trivia answers, {fans:N0} fans, {seconds} s window", accepted.Count, answering, [.. accepted.Select(a => a.Ms)]);
        Console.WriteLine();
        Console.WriteLine(RunResult.Header());
        Console.WriteLine(accept.Row());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"trivia: {accepted.Count:N0} answers accepted, {late:N0} refused as late or early, {other:N0} other; in the round: {answers:N0}, scored: {scored:N0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"trivia: question close -> every answer on the leaderboard {(visible - closesAt).TotalMilliseconds:F0} ms; answer -> on the leaderboard p50 {new RunResult("", latencies.Length, TimeSpan.FromSeconds(1), latencies).Percentile(50):F0} ms, p99 {new RunResult("", latencies.Length, TimeSpan.FromSeconds(1), latencies).Percentile(99):F0} ms (the question is scored after its close)"));
        var ok = answers == accepted.Count && scored == answers;
        Console.WriteLine(ok ? "every accepted trivia answer is in the round once and scored" : "MISMATCH: accepted, stored and scored trivia answers differ");
        return ok;
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
