using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Fraud.Core;
using FanVote.Fraud.Model;
using FanVote.FraudModel.Trainer;
using StackExchange.Redis;

namespace FanVote.Bench;

/// <summary>
/// `./fanvote bench fraud`:
/// 1. scoring throughput on one core: the generated votes of a show (the trainer's generator) through the service's
///    feature extractor and the promoted model, one thread, as the fraud service's scoring loop runs them;
/// 2. vote → verdict latency: the fraud service beside its sidecar, fed by a second sidecar the way ingress publishes
///    (with a steady background of ordinary votes); a device farm starts every few seconds and the time from
///    publishing the vote that tips its verdict to the verdict being on the `risk-verdicts` stream is measured.
/// </summary>
public static class FraudBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var models = new ModelStore(args.Require("models"));
        var version = models.Current() ?? throw new ArgumentException($"nothing promoted in {models.Root}");
        Console.WriteLine($"fraud model {version}; {Environment.ProcessorCount} cores; numbers vary with what else runs on the machine");
        Throughput(models.VersionDirectory(version), args.Number("fans", 20_000));
        return await LatencyAsync(args, models.Root);
    }

    private static void Throughput(string modelDir, int fans)
    {
        var votes = new Generator(new GeneratorOptions { Seed = 99, Fans = fans }).Generate().Select(v => v.Vote).ToArray();
        using var model = RiskModel.Load(modelDir);
        var f = new float[FeatureSchema.Count];
        var sink = 0f;
        Thread.CurrentThread.Priority = ThreadPriority.Highest;

        // Warm-up (JIT, tiered compilation), then three timed passes each; the best pass is reported.
        for (var pass = 0; pass < 2; pass++)
        {
            var x = new VelocityFeatures();
            foreach (var v in votes.Take(50_000))
            {
                x.Extract(v, f);
                sink += model.Score(f);
            }
        }

        double Best(Action run)
        {
            var best = double.MaxValue;
            for (var pass = 0; pass < 3; pass++)
            {
                var sw = Stopwatch.StartNew();
                run();
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }

            return votes.Length / best;
        }

        var features = Best(() =>
        {
            var x = new VelocityFeatures();
            foreach (var v in votes)
            {
                x.Extract(v, f);
            }
        });
        var both = Best(() =>
        {
            var x = new VelocityFeatures();
            foreach (var v in votes)
            {
                x.Extract(v, f);
                sink += model.Score(f);
            }
        });
        var scoring = Best(() =>
        {
            foreach (var _ in votes)
            {
                sink += model.Score(f);
            }
        });
        Console.WriteLine();
        Console.WriteLine($"| one core, {votes.Length:N0} generated votes        | votes/s    |");
        Console.WriteLine("|-------------------------------------------------|-----------:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| features only (VelocityFeatures)                | {features,10:N0} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| model only ({model.Info.Algorithm}, PredictionEngine)        | {scoring,10:N0} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| features + model (the scoring loop)             | {both,10:N0} |  aim: 100,000"));
        GC.KeepAlive(sink);
    }

    private static async Task<int> LatencyAsync(BenchArgs args, string modelRoot)
    {
        var redis = args.Require("redis");
        var resources = args.Require("resources");
        var farms = args.Number("farms", 30);
        var background = args.Number("background", 1_000);
        var env = BenchSecrets.With(new Dictionary<string, string> { ["FANVOTE_REDIS_HOST"] = redis });
        var appPort = FreePort();
        var fraudSidecar = Sidecar(args.Require("sidecar"), "fraud", resources, env, appPort);
        var fraud = Start("dotnet", [args.Require("fraud")], new Dictionary<string, string>(env)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{appPort}",
            ["DAPR_HTTP_PORT"] = fraudSidecar.Http.ToString(CultureInfo.InvariantCulture),
            ["DAPR_GRPC_PORT"] = fraudSidecar.Grpc.ToString(CultureInfo.InvariantCulture),
            ["APP_ID"] = AppIds.Fraud,
            ["FANVOTE_MODEL_ROOT"] = modelRoot,
            ["FANVOTE_LOG_FORMAT"] = "json",
        });
        var publisher = Sidecar(args.Require("sidecar"), AppIds.Ingress, resources, env, null);
        try
        {
            using var http = new HttpClient();
            await WaitAsync(http, $"http://127.0.0.1:{fraudSidecar.Http}/v1.0/healthz");
            await WaitAsync(http, $"http://127.0.0.1:{publisher.Http}/v1.0/healthz/outbound");
            using var client = new DaprClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{publisher.Grpc}")
                .UseHttpEndpoint($"http://127.0.0.1:{publisher.Http}").UseJsonSerializationOptions(FanVoteJson.Options).UseDaprApiToken(BenchSecrets.DaprApiToken).Build();
            await using var mux = await ConnectionMultiplexer.ConnectAsync(redis);
            var db = mux.GetDatabase();
            var run = Guid.NewGuid().ToString("N")[..6];
            using var stop = new CancellationTokenSource();
            var backgroundTask = BackgroundAsync(client, run, background, stop.Token);

            var sent = new Dictionary<long, long>(); // vote time (ms) → Stopwatch timestamp when published
            var latencies = new List<double>();
            RedisValue lastId = "0-0";
            for (var farm = 0; farm < farms; farm++)
            {
                var device = $"bench-{run}-farm-{farm}";
                double? latency = null;
                for (var k = 0; k < 100 && latency is null; k++)
                {
                    var now = DateTimeOffset.UtcNow;
                    sent[now.ToUnixTimeMilliseconds()] = Stopwatch.GetTimestamp();
                    await client.BulkPublishEventAsync(ComponentNames.VoteBus, Topics.Votes, [Vote(run, $"{device}-acct-{k}", device, "203.0.113.9", now, now.AddMinutes(-10))]);
                    var until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 20); // 20 votes/s: the per-device rate limit
                    while (Stopwatch.GetTimestamp() < until && latency is null)
                    {
                        foreach (var e in await db.StreamRangeAsync(Topics.RiskVerdicts, minId: lastId))
                        {
                            if (e.Id == lastId)
                            {
                                continue;
                            }

                            lastId = e.Id;
                            var verdict = JsonSerializer.Deserialize<JsonElement>((string)e["data"]!).GetProperty("data").Deserialize<RiskVerdictIssued>(FanVoteJson.Options)!;
                            if (verdict.Subject == device && sent.TryGetValue(verdict.OccurredAt.ToUnixTimeMilliseconds(), out var at))
                            {
                                latency = Stopwatch.GetElapsedTime(at).TotalMilliseconds;
                            }
                        }

                        await Task.Delay(2);
                    }
                }

                if (latency is { } ms)
                {
                    latencies.Add(ms);
                }

                await Task.Delay(500);
            }

            var swarms = args.Number("swarms", 5);
            var group = new List<(double Tipping, double Whole, int Round, bool AsGroup)>();
            for (var swarm = 0; swarm < swarms; swarm++)
            {
                var (caught, reader) = await SwarmLatencyAsync(client, db, lastId, run, swarm);
                lastId = reader;
                if (caught is { } c)
                {
                    group.Add(c);
                }
            }

            await stop.CancelAsync();
            await backgroundTask;
            var result = new RunResult($"vote -> verdict ({latencies.Count} of {farms} farms caught)", latencies.Count, TimeSpan.FromSeconds(1), [.. latencies]);
            Console.WriteLine();
            Console.WriteLine($"vote -> verdict through sidecar, fraud service, sidecar, with {background:N0} ordinary votes/s beside it (aim: p99 under 2,000 ms)");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  device farms: p50 {result.Percentile(50):F0} ms, p99 {result.Percentile(99):F0} ms, max {latencies.DefaultIfEmpty(double.NaN).Max():F0} ms"));
            if (group.Count > 0)
            {
                var tipping = new RunResult("group", group.Count, TimeSpan.FromSeconds(1), [.. group.Select(g => g.Tipping)]);
                var whole = new RunResult("group", group.Count, TimeSpan.FromSeconds(1), [.. group.Select(g => g.Whole)]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  lockstep swarms ({group.Count} of {swarms} caught, {group.Count(g => g.AsGroup)} by a group verdict, the rest member by member; {SwarmSize} accounts each, a round every {SwarmRoundMs / 1000} s; caught in round {string.Join(',', group.Select(g => g.Round + 1))}):"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    tipping vote -> first member's verdict p50 {tipping.Percentile(50):F0} ms, p99 {tipping.Percentile(99):F0} ms; -> every member's verdict p50 {whole.Percentile(50):F0} ms, p99 {whole.Percentile(99):F0} ms"));
            }

            return latencies.Count == farms && group.Count == swarms ? 0 : 1;
        }
        finally
        {
            foreach (var p in new[] { publisher.Process, fraud, fraudSidecar.Process })
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                }

                p.Dispose();
            }
        }
    }

    private const int SwarmSize = 20;
    private const int SwarmRoundMs = 4_000;

    /// <summary>
    /// One lockstep swarm: <see cref="SwarmSize"/> aged accounts, each on its own device and address, voting once a
    /// round within 0.3 s of each other, until every member has a verdict (or 12 rounds): by a group verdict
    /// (lockstep-group) or member by member. Timed from the vote the first verdict names as its tipping vote to that
    /// verdict, and to the last member's verdict.
    /// </summary>
    private static async Task<((double Tipping, double Whole, int Round, bool AsGroup)? Caught, RedisValue LastId)> SwarmLatencyAsync(
        DaprClient client, IDatabase db, RedisValue lastId, string run, int swarm)
    {
        var rng = new Random(swarm);
        var members = Enumerable.Range(0, SwarmSize).Select(i => (Account: $"bench-{run}-swarm-{swarm}-m{i}", Offset: rng.Next(300), Ip: $"{20 + i}.{rng.Next(256)}.{rng.Next(256)}.9"))
            .OrderBy(m => m.Offset).ToArray();
        var names = members.Select(m => m.Account).ToHashSet();
        var sent = new Dictionary<long, long>();
        var named = new HashSet<string>();
        double? tipping = null;
        double? whole = null;
        long tippingAt = 0;
        var asGroup = false;
        var start = Stopwatch.GetTimestamp();
        for (var round = 0; round < 12; round++)
        {
            foreach (var (account, offset, ip) in members)
            {
                var due = start + (((round * SwarmRoundMs) + offset) * Stopwatch.Frequency / 1000);
                while (Stopwatch.GetTimestamp() < due)
                {
                    lastId = await ReadVerdictsAsync();
                    await Task.Delay(2);
                }

                var now = DateTimeOffset.UtcNow;
                sent[now.ToUnixTimeMilliseconds()] = Stopwatch.GetTimestamp();
                var created = now.AddDays(-200 - rng.Next(300)).AddSeconds(-rng.Next(86_400));
                await client.BulkPublishEventAsync(ComponentNames.VoteBus, Topics.Votes, [Vote(run, account, "dev-" + account, ip, now, created, candidate: "c2")]);
            }

            if (whole is { } w)
            {
                return ((tipping!.Value, w, round, asGroup), lastId);
            }
        }

        return (null, lastId);

        async Task<RedisValue> ReadVerdictsAsync()
        {
            foreach (var e in await db.StreamRangeAsync(Topics.RiskVerdicts, minId: lastId))
            {
                if (e.Id == lastId)
                {
                    continue;
                }

                lastId = e.Id;
                var verdict = JsonSerializer.Deserialize<JsonElement>((string)e["data"]!).GetProperty("data").Deserialize<RiskVerdictIssued>(FanVoteJson.Options)!;
                if (!names.Contains(verdict.Subject))
                {
                    continue;
                }

                named.Add(verdict.Subject);
                asGroup |= verdict.ReasonCodes.Contains("lockstep-group");
                if (tipping is null && sent.TryGetValue(verdict.OccurredAt.ToUnixTimeMilliseconds(), out var at))
                {
                    tippingAt = at;
                    tipping = Stopwatch.GetElapsedTime(at).TotalMilliseconds;
                }

                if (named.Count == SwarmSize && tipping is not null && whole is null)
                {
                    whole = Stopwatch.GetElapsedTime(tippingAt).TotalMilliseconds;
                }
            }

            return lastId;
        }
    }

    /// <summary>Ordinary fans at a steady rate, so the service is busy while farms are timed.</summary>
    private static async Task BackgroundAsync(DaprClient client, string run, int perSecond, CancellationToken stop)
    {
        var rng = new Random(7);
        var i = 0;
        var origin = DateTimeOffset.UtcNow;
        while (!stop.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow;
            var batch = Enumerable.Range(0, Math.Max(1, perSecond / 10)).Select(_ =>
            {
                // Each fan signed up once, at a moment of its own (not a shared birth second: that is a cohort), and
                // the batch's votes spread over its 100 ms.
                var fan = rng.Next(50_000);
                var created = origin.AddDays(-100 - (fan % 300)).AddSeconds(-(fan * 7_919L % 86_400));
                return Vote(run, $"fan-{fan}", $"phone-{fan}", $"198.51.{fan % 200}.{1 + (fan % 250)}", now.AddMilliseconds(rng.Next(100)), created);
            }).ToList();
            i += batch.Count;
            await client.BulkPublishEventAsync(ComponentNames.VoteBus, Topics.Votes, batch, cancellationToken: CancellationToken.None);
            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static VoteAccepted Vote(string run, string account, string device, string ip, DateTimeOffset at, DateTimeOffset created, string candidate = "c1")
    {
        var id = Guid.CreateVersion7(at);
        return new VoteAccepted
        {
            EventId = id, OccurredAt = at, VoteId = id, WindowId = "bench-" + run, CandidateId = candidate, AccountId = account, DeviceId = device, Ip = ip,
            AccountCreatedAt = created, Seal = BenchSecrets.Seal.Seal(id, "bench-" + run, candidate, account, device, ip, at, created),
        };
    }

    private static (Process Process, int Http, int Grpc) Sidecar(string dll, string appId, string resources, Dictionary<string, string> env, int? appPort)
    {
        var http = FreePort();
        var grpc = FreePort();
        List<string> a = [dll, "--app-id", appId, "--dapr-http-port", http.ToString(CultureInfo.InvariantCulture), "--dapr-grpc-port",
            grpc.ToString(CultureInfo.InvariantCulture), "--resources-path", resources, "--log-level", "warn"];
        if (appPort is { } p)
        {
            a.AddRange(["--app-port", p.ToString(CultureInfo.InvariantCulture)]);
        }

        return (Start("dotnet", a, env), http, grpc);
    }

    private static Process Start(string file, IEnumerable<string> args, Dictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine(e.Data); } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task WaitAsync(HttpClient http, string url)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var r = await http.GetAsync(new Uri(url));
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{url} not ready in 90 s");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}
