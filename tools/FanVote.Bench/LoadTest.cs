using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace FanVote.Bench;

/// <summary>
/// The spike rehearsal before a show (`./fanvote loadtest --peak N`): from idle to 3 × N votes/s within one second from
/// many fans, held, then stopped; open-loop (each request has its planned send time and its latency counts from then, so
/// a slow system cannot slow the load down and hide its own latency); a share of replays (a retried request with the
/// same Idempotency-Key, which must get the same vote id) and of bad requests (malformed body, unknown candidate,
/// forged session, which must be refused); 503 and 429 retried as a fan's app does, with the same Idempotency-Key.
/// Then it waits for the drain and prints a verdict: accepted == persisted == counted, latency, refusals by reason, the
/// rate held, and whether this deployment holds 3 × the peak and what the capacity table says it needs.
/// </summary>
public static class LoadTest
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(BenchArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var runDir = args.Require("run-dir");
        var peak = args.Number("peak", 0);
        if (peak <= 0)
        {
            Console.Error.WriteLine("loadtest: --peak N is required: the busiest second you expect, in votes/s (the rehearsal drives 3 × N)");
            return 2;
        }

        var hold = args.Number("hold", 20);
        var accounts = args.Number("accounts", 20_000);
        var replayPercent = args.Number("replay-percent", 5);
        var badPercent = args.Number("bad-percent", 2);
        var p99Aim = args.Number("p99-ms", 1000);
        var capacityPerIngress = args.Number("capacity", CapacityTable.IngressVotesPerSecond);
        var secrets = PipelineBench.EnvFile(Path.Combine(runDir, "secrets.env"));
        var appEnv = PipelineBench.EnvFile(Path.Combine(runDir, "app.env"));
        var pg = args.Get("pg", appEnv["FANVOTE_PG_CONNECTION"]);
        var key = args.Get("operator-key", secrets["FANVOTE_OPERATOR_KEY"]);
        var ingress = args.Get("ingress", "http://127.0.0.1:5080");
        var results = args.Get("results", "http://127.0.0.1:5081");
        var orchestrator = args.Get("orchestrator", "http://127.0.0.1:5082");
        var ingressInstances = args.Number("ingress-instances", 1);
        var target = 3 * peak;
        var window = "rehearsal-" + Guid.NewGuid().ToString("N")[..6];

        await PipelineBench.CreateWindowAsync(orchestrator, key, window);
        var tokens = PipelineBench.Tokens(secrets["FANVOTE_TOKEN_KEYS"], window, accounts);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"spike rehearsal — peak {peak:N0} votes/s, driving 3 × = {target:N0} votes/s: idle, 0 → {target:N0} in 1 s, held {hold} s; {accounts:N0} fans; {replayPercent} % replays, {badPercent} % bad requests; window {window}"));
        var warmup = args.Number("warmup", 20);
        if (warmup > 0)
        {
            // As the README's "Warm pods" asks before a show: the pods get votes on a rehearsal window of their own first
            // (a freshly started .NET process runs at a fraction of its speed until the JIT has tiered up its hot path).
            var warmWindow = window + "-warm";
            await PipelineBench.CreateWindowAsync(orchestrator, key, warmWindow);
            using var warm = new Spike(ingress, warmWindow, tokens, Math.Max(1, peak / 2), warmup, replayPercent: 0, badPercent: 0, ramp: false);
            await warm.DriveAsync();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warm-up ({warmup} s at {Math.Max(1, peak / 2):N0} votes/s on window {warmWindow}, not part of the verdict), accepted per second: {string.Join(" ", warm.PerSecond())}"));
        }

        await Task.Delay(TimeSpan.FromSeconds(3)); // idle: nothing in flight when the spike starts

        using var run = new Spike(ingress, window, tokens, target, hold, replayPercent, badPercent);
        await run.DriveAsync();

        // The drain: every accepted vote persisted and counted, each once.
        var accepted = run.AcceptedIds.Count;
        var drain = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        long persisted = 0, counted = 0;
        while (DateTime.UtcNow < deadline)
        {
            persisted = await PipelineBench.LedgerCountAsync(pg, window);
            counted = await CountedAsync(results, window);
            if (persisted >= accepted && counted >= accepted)
            {
                break;
            }

            await Task.Delay(250);
        }

        var drained = drain.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(2)); // anything counted twice would show up by now
        persisted = await PipelineBench.LedgerCountAsync(pg, window);
        counted = await CountedAsync(results, window);

        var verdict = new RehearsalVerdict(peak, target, accepted, persisted, counted, run.ReplaysMismatched, run.BadAccepted, run.GaveUp,
            run.HeldRate(), run.PeakSecond(), Percentile(run.AcceptLatencies, 50), Percentile(run.AcceptLatencies, 99), p99Aim,
            ingressInstances, capacityPerIngress);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sent {run.Sent:N0} requests ({run.Replays:N0} replays, {run.Bad:N0} bad) in {run.SendSeconds:F1} s; drain after the last answer: {drained.TotalSeconds:F1} s"));
        Console.WriteLine("accepted per second (by answer time): " + string.Join(" ", run.PerSecond().Select(n => n.ToString("N0", CultureInfo.InvariantCulture))));
        Console.WriteLine("refusals by reason (every answer that was not a 202, retried ones included):");
        foreach (var (reason, n) in run.Refusals.OrderByDescending(r => r.Value))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {n,8:N0}  {reason}"));
        }

        Console.WriteLine();
        foreach (var line in verdict.Lines())
        {
            Console.WriteLine(line);
        }

        return verdict.Passed ? 0 : 1;
    }

    private static async Task<long> CountedAsync(string results, string window)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var r = await http.GetAsync(new Uri($"{results}/v1/windows/{window}/results"));
        if (!r.IsSuccessStatusCode)
        {
            return 0;
        }

        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("total").GetInt64();
    }

    internal static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return PipelineBench.Pct(sorted, p);
    }

    /// <summary>The open-loop load: planned send times from the ramp and hold, requests fired at their time, answers recorded.</summary>
    private sealed class Spike(string ingress, string window, List<string> tokens, int target, int hold, int replayPercent, int badPercent, bool ramp = true) : IDisposable
    {
        private const int MaxInFlight = 8192;
        private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(ingress),
            Timeout = TimeSpan.FromSeconds(30),
        };

        private readonly ConcurrentDictionary<string, int> _refusals = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<(string Token, string Key, string Candidate, string Ip, Guid Id)> _replayable = new();
        private readonly ConcurrentBag<(double AtSeconds, double LatencyMs)> _accepts = [];
        private readonly SemaphoreSlim _inFlight = new(MaxInFlight);
        private Stopwatch _clock = new();

        public ConcurrentDictionary<Guid, byte> AcceptedIds { get; } = new();

        public IReadOnlyDictionary<string, int> Refusals => _refusals;

        public List<double> AcceptLatencies => [.. _accepts.Select(a => a.LatencyMs)];

        public int Sent;

        public int Replays;

        public int Bad;

        public int ReplaysMismatched;

        public int BadAccepted;

        public int GaveUp;

        public double SendSeconds;

        public void Dispose()
        {
            _http.Dispose();
            _inFlight.Dispose();
        }

        /// <summary>How many requests are due by <paramref name="t"/> seconds: a linear ramp 0 → target in the first second, then target (without the ramp: target from the start).</summary>
        private double Due(double t) => !ramp ? target * Math.Min(t, hold) : t < 1 ? target * t * t / 2 : (target / 2.0) + (target * Math.Min(t - 1, hold));

        public async Task DriveAsync()
        {
            var total = (long)Due(ramp ? 1 + hold : hold);
            var tasks = new List<Task>((int)Math.Min(total, 2_000_000));
            _clock = Stopwatch.StartNew();
            long i = 0;
            while (i < total)
            {
                var now = _clock.Elapsed.TotalSeconds;
                while (i < total && i < Due(now))
                {
                    var planned = PlannedAt(i);
                    await _inFlight.WaitAsync();
                    tasks.Add(OneAsync(i, planned));
                    i++;
                }

                await Task.Delay(1);
            }

            SendSeconds = _clock.Elapsed.TotalSeconds;
            await Task.WhenAll(tasks);
        }

        /// <summary>The planned send time of request <paramref name="i"/> (the inverse of <see cref="Due"/>).</summary>
        private double PlannedAt(long i) => !ramp ? (double)i / target : i < target / 2.0 ? Math.Sqrt(2.0 * i / target) : 1 + ((i - (target / 2.0)) / target);

        private async Task OneAsync(long i, double planned)
        {
            try
            {
                var slot = (int)(i % 100);
                if (slot < badPercent)
                {
                    Interlocked.Increment(ref Bad);
                    await BadAsync(i);
                }
                else if (slot < badPercent + replayPercent && _replayable.TryDequeue(out var replay))
                {
                    Interlocked.Increment(ref Replays);
                    var (id, _) = await CastAsync(replay.Token, replay.Key, replay.Candidate, replay.Ip, planned);
                    if (id != replay.Id)
                    {
                        Interlocked.Increment(ref ReplaysMismatched);
                    }
                }
                else
                {
                    var fan = (int)(Random.Shared.NextInt64(tokens.Count));
                    var candidate = PipelineBench.Candidates[Random.Shared.Next(PipelineBench.Candidates.Length)];
                    var ip = $"10.{fan % 256}.{fan / 256 % 256}.7";
                    var key = Guid.NewGuid().ToString("N");
                    var (id, ok) = await CastAsync(tokens[fan], key, candidate, ip, planned);
                    if (ok && i % 7 == 0)
                    {
                        _replayable.Enqueue((tokens[fan], key, candidate, ip, id));
                    }
                }
            }
            finally
            {
                _inFlight.Release();
                Interlocked.Increment(ref Sent);
            }
        }

        /// <summary>One vote until it is accepted or refused for good; 503/429 retried with the same key (at most 20 times).</summary>
        private async Task<(Guid Id, bool Accepted)> CastAsync(string token, string key, string candidate, string ip, double planned)
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                using var request = Vote(token, key, $$"""{"candidateId":"{{candidate}}"}""", ip);
                HttpResponseMessage response;
                try
                {
                    response = await _http.SendAsync(request);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    _refusals.AddOrUpdate("no answer: " + e.GetType().Name, 1, (_, n) => n + 1);
                    await Task.Delay(200);
                    continue;
                }

                using (response)
                {
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                        var id = doc.RootElement.GetProperty("voteId").GetGuid();
                        AcceptedIds.TryAdd(id, 0);
                        var at = _clock.Elapsed.TotalSeconds;
                        _accepts.Add((at, (at - planned) * 1000));
                        return (id, true);
                    }

                    var reason = await ReasonAsync(response);
                    _refusals.AddOrUpdate(reason, 1, (_, n) => n + 1);
                    if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
                    {
                        var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200);
                        await Task.Delay(wait > TimeSpan.FromSeconds(2) ? TimeSpan.FromSeconds(2) : wait);
                        continue;
                    }

                    return (Guid.Empty, false); // refused for good (e.g. a challenge or the per-account limit)
                }
            }

            Interlocked.Increment(ref GaveUp);
            return (Guid.Empty, false);
        }

        /// <summary>A request that must be refused: a malformed body, an unknown candidate or a forged session.</summary>
        private async Task BadAsync(long i)
        {
            var fan = (int)(i % tokens.Count);
            var token = tokens[fan];
            var forged = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');
            using var request = (i / 100 % 3) switch
            {
                0 => Vote(token, Guid.NewGuid().ToString("N"), "{\"candidateId\":", $"10.{fan % 256}.{fan / 256 % 256}.7"),
                1 => Vote(token, Guid.NewGuid().ToString("N"), """{"candidateId":"nobody"}""", $"10.{fan % 256}.{fan / 256 % 256}.7"),
                _ => Vote(forged, Guid.NewGuid().ToString("N"), """{"candidateId":"aurora"}""", $"10.{fan % 256}.{fan / 256 % 256}.7"),
            };
            try
            {
                using var response = await _http.SendAsync(request);
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref BadAccepted);
                }

                _refusals.AddOrUpdate("(bad request) " + await ReasonAsync(response), 1, (_, n) => n + 1);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _refusals.AddOrUpdate("(bad request) no answer: " + e.GetType().Name, 1, (_, n) => n + 1);
            }
        }

        private HttpRequestMessage Vote(string token, string key, string body, string ip)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new("Bearer", token);
            request.Headers.Add("Idempotency-Key", key);
            request.Headers.Add("X-Forwarded-For", ip);
            return request;
        }

        private static async Task<string> ReasonAsync(HttpResponseMessage response)
        {
            var title = "";
            try
            {
                var text = await response.Content.ReadAsStringAsync();
                if (text.Length > 0 && text[0] == '{')
                {
                    using var doc = JsonDocument.Parse(text);
                    title = doc.RootElement.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "";
                }
            }
            catch (JsonException)
            {
            }

            return $"{(int)response.StatusCode} {title}".TrimEnd();
        }

        /// <summary>Accepted votes per second of the run, by the time their 202 came.</summary>
        public int[] PerSecond()
        {
            var seconds = (int)Math.Ceiling(Math.Max(SendSeconds, _accepts.IsEmpty ? 0 : _accepts.Max(a => a.AtSeconds)));
            var buckets = new int[Math.Max(seconds, 1)];
            foreach (var (at, _) in _accepts)
            {
                buckets[Math.Min((int)at, buckets.Length - 1)]++;
            }

            return buckets;
        }

        /// <summary>The rate held through the hold phase: the 10th percentile of its whole seconds (after the ramp's second).</summary>
        public double HeldRate()
        {
            var holdSeconds = PerSecond().Skip(1).Take(hold).Select(n => (double)n).ToList();
            return holdSeconds.Count == 0 ? 0 : Percentile(holdSeconds, 10);
        }

        public int PeakSecond() => PerSecond().DefaultIfEmpty(0).Max();
    }
}

/// <summary>The capacity table's figures (README "Capacity planning"; the recording rules in ops/prometheus carry the same).</summary>
public static class CapacityTable
{
    /// <summary>One ingress instance, votes accepted per second.</summary>
    public const int IngressVotesPerSecond = 5_576;

    /// <summary>Headroom H of the table's formula.</summary>
    public const double Headroom = 1.5;

    /// <summary>The table's formula: instances = max(2, ⌈peak × H ÷ R⌉).</summary>
    public static int Instances(double peak, double perInstance) => Math.Max(2, (int)Math.Ceiling(peak * Headroom / perInstance));
}

/// <summary>What a rehearsal concludes: pass only if nothing was lost or counted twice, every replay got its vote id, no bad request was accepted, 3 × peak was held, and p99 stayed under the aim.</summary>
public sealed record RehearsalVerdict(
    int Peak, int Target, long Accepted, long Persisted, long Counted, int ReplaysMismatched, int BadAccepted, int GaveUp,
    double Held, int PeakSecond, double P50Ms, double P99Ms, int P99AimMs, int IngressInstances, int CapacityPerIngress)
{
    /// <summary>3 × peak counts as held when the hold phase's 10th-percentile second reached 95 % of it.</summary>
    public bool HeldTarget => Held >= 0.95 * Target;

    public bool Exact => Accepted == Persisted && Persisted == Counted;

    public bool Passed => Exact && ReplaysMismatched == 0 && BadAccepted == 0 && GaveUp == 0 && HeldTarget && P99Ms <= P99AimMs;

    public IEnumerable<string> Lines()
    {
        static string Mark(bool ok) => ok ? "ok  " : "FAIL";
        var c = CultureInfo.InvariantCulture;
        yield return string.Create(c, $"{Mark(Exact)} accepted (unique 202s) {Accepted:N0} == persisted {Persisted:N0} == counted {Counted:N0}");
        yield return string.Create(c, $"{Mark(ReplaysMismatched == 0)} replays answered with their original vote id ({ReplaysMismatched} did not)");
        yield return string.Create(c, $"{Mark(BadAccepted == 0)} bad requests refused ({BadAccepted} accepted)");
        yield return string.Create(c, $"{Mark(GaveUp == 0)} every vote answered for good within 20 retries ({GaveUp} gave up)");
        yield return string.Create(c, $"{Mark(HeldTarget)} rate held {Held:N0} votes/s (10th-percentile second of the hold), busiest second {PeakSecond:N0}; 3 × peak = {Target:N0}");
        yield return string.Create(c, $"{Mark(P99Ms <= P99AimMs)} accept latency from the planned send: p50 {P50Ms:F0} ms, p99 {P99Ms:F0} ms (aim: p99 ≤ {P99AimMs} ms)");
        var tested = IngressInstances * CapacityPerIngress;
        var needed = CapacityTable.Instances(Peak, CapacityPerIngress);
        yield return string.Create(c,
            $"capacity table: {IngressInstances} ingress instance(s) × {CapacityPerIngress:N0} votes/s = {tested:N0}; for a peak of {Peak:N0} it asks for {needed} ingress instance(s) (max(2, ⌈peak × {CapacityTable.Headroom} ÷ R⌉)), alerts at 70 % = {0.7 * tested:N0} votes/s");
        if (Target > tested)
        {
            yield return string.Create(c,
                $"     3 × peak ({Target:N0}) is above what the table says {IngressInstances} instance(s) hold: to pass, run at least {(int)Math.Ceiling(Target / (double)CapacityPerIngress)} ingress instance(s)");
        }

        yield return Passed ? "VERDICT: PASS — this deployment held 3 × the expected peak and counted every vote once" : "VERDICT: FAIL — see the lines marked FAIL";
    }
}
