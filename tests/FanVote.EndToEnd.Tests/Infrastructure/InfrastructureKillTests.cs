using System.Diagnostics;
using System.Text.Json;
using FanVote.Testing;
using Npgsql;

namespace FanVote.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Zero loss when the infrastructure itself fails (issue 12, "a 202 is on disk"): in the middle of a burst, with
/// thousands of votes between ingress and the ledger, Redis (broker, admission, state: one server, as `./fanvote up`
/// runs it, with an append-only file fsynced on every write) or PostgreSQL (the ledger, synchronous_commit=on) is
/// SIGKILLed and started again on the same port and data. The fans' app retries every 503 with the same
/// Idempotency-Key after its Retry-After; nothing is restarted by hand: ingress, tally, results and the sidecars find
/// their way back by themselves. Each test ends with accepted (202s) == persisted (ledger rows) == counted (the live
/// tally), every accepted vote in the ledger exactly once, and nothing in the ledger that was not accepted.
/// Each test has its own Redis and PostgreSQL servers, so killing them disturbs no other test.
/// </summary>
public sealed class InfrastructureKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] Candidates = ["aurora", "blaze", "comet", "dune"];
    private const int Accounts = 2_000;
    private const int PerAccount = 5;

    /// <summary>Fans voting at once: each has at most one vote in flight.</summary>
    private const int Concurrency = 96;

    /// <summary>Votes settled before the kill: the burst is well under way and keeps going through the outage.</summary>
    private const int KillAfter = 3_000;

    private PostgresServer? _postgres;
    private PipelineRig _rig = null!;

    public async ValueTask InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        // The rig makes the test client the fans' trusted proxy and raises the sign-in limits (PipelineRig.IngressBase).
        _rig = new PipelineRig(new Dictionary<string, string?>
        {
            ["Ingress__PerAccountPerSecond"] = "1000",
            ["Ingress__PerDevicePerSecond"] = "1000",
        }) { DatabaseServer = _postgres };
        await _rig.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_rig is not null)
        {
            await _rig.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    [Fact]
    public async Task Redis_KilledMidBurstAndRestartedFromItsAppendOnlyFile_EveryAcceptedVotePersistedAndCountedOnce()
    {
        await RunAsync("ik-redis-" + Guid.NewGuid().ToString("N")[..6], "Redis", _rig.Redis.KillAsync, _rig.Redis.StartAgainAsync);
    }

    [Fact]
    public async Task Postgres_KilledMidBurstAndRestarted_EveryAcceptedVotePersistedAndCountedOnce()
    {
        var postgres = _postgres!;
        await RunAsync("ik-pg-" + Guid.NewGuid().ToString("N")[..6], "PostgreSQL", postgres.KillAsync, postgres.StartAgainAsync);
    }

    private async Task RunAsync(string window, string what, Func<Task> kill, Func<Task> restart)
    {
        await _rig.CreateWindowAsync(window, Candidates, PerAccount);
        var crowd = new PatientCrowd(_rig.IngressHttp, window, Candidates, Accounts, PerAccount);
        var tokens = await crowd.SignInAsync();
        await WaitUntilAsync(async () => await IngressKnowsAsync(window, tokens[0]), TimeSpan.FromSeconds(30), () => "ingress never learned the window");

        var reached = new TaskCompletionSource();
        var sw = Stopwatch.StartNew();
        var voting = crowd.VoteAsync(tokens, concurrency: Concurrency, perVoteDeadline: TimeSpan.FromMinutes(4), progress: done =>
        {
            if (done == KillAfter)
            {
                reached.TrySetResult();
            }
        });

        // The kill: once KillAfter votes are settled, SIGKILL, stay down for two seconds (votes keep coming: 503s), restart.
        await Task.WhenAny(reached.Task, voting);
        Assert.True(reached.Task.IsCompleted, $"the burst ended before {KillAfter} votes were settled: {string.Join("; ", crowd.Failures.Take(5))}");
        var persistedAtKill = await LedgerCountAsync(window);
        var killedAt = crowd.Accepted.Count;
        await kill();
        var down = Stopwatch.StartNew();
        await Task.Delay(2000, TestContext.Current.CancellationToken);
        var acceptedWhileDown = crowd.Accepted.Count - killedAt;
        var burstRunningAtRestart = !voting.IsCompleted;
        await restart();
        var downFor = down.Elapsed;
        await voting;
        var voted = sw.Elapsed;

        Assert.True(crowd.Failures.IsEmpty, $"{crowd.Failures.Count} votes went wrong, e.g.:\n{string.Join("\n", crowd.Failures.Take(10))}");
        var accepted = crowd.Accepted.Count;
        Assert.Equal(crowd.Votes, accepted);

        // Persisted: every accepted vote reaches the ledger (deliveries retry until the tally has stored them).
        var deadline = DateTime.UtcNow.AddMinutes(4);
        long persisted = 0;
        await WaitUntilAsync(async () => (persisted = await LedgerCountAsync(window)) >= accepted, deadline - DateTime.UtcNow,
            () => $"the ledger holds {persisted} of {accepted} accepted votes");
        var allPersisted = sw.Elapsed;

        // Counted: the live results (published by the tally, served by results) reach the same total.
        JsonElement results = default;
        await WaitUntilAsync(
            async () =>
            {
                results = await _rig.ResultsAsync(window);
                return results.ValueKind == JsonValueKind.Object && results.GetProperty("total").GetInt64() >= accepted;
            },
            deadline - DateTime.UtcNow,
            () => $"results show {(results.ValueKind == JsonValueKind.Object ? results.GetProperty("total").GetInt64() : -1)} of {accepted}");

        output.WriteLine($"{what} SIGKILLed with {killedAt} votes accepted and {persistedAtKill} persisted; {acceptedWhileDown} accepted in the 2 s after; down {downFor.TotalSeconds:F1} s (restart included); " +
                         $"{crowd.Unavailable} answers were 503 (each retried with its key); all {accepted} accepted after {voted.TotalSeconds:F1} s, persisted after {allPersisted.TotalSeconds:F1} s");

        // The outage met the burst, or the test showed nothing: with Redis down ingress cannot take votes (503s); with the
        // ledger down ingress goes on taking them while the tally cannot store them.
        Assert.True(persistedAtKill < crowd.Votes, $"every vote was persisted before {what} was killed");
        if (what == "Redis")
        {
            // Ingress cannot take votes without Redis: the burst must still be running when it comes back.
            Assert.True(burstRunningAtRestart, $"the burst was over before {what} came back: the outage did not meet it");

            // With Redis down nothing new can be accepted. Ingress either answers 503 (the client library gave up) or holds
            // the request until Redis is back (the client library queued the command); both are right for the fan. Only
            // answers already on their way when Redis died may arrive as 202s: at most one per concurrent fan.
            Assert.True(crowd.Unavailable > 0 || acceptedWhileDown < Concurrency,
                $"{acceptedWhileDown} votes were accepted and {crowd.Unavailable} answered 503 in the 2 s Redis was down: the outage did not meet the burst");
        }
        else
        {
            // Ingress goes on taking votes while the ledger is down (a fast machine may take the rest of the burst in
            // those 2 s): what must meet the outage is the tally's deliveries of votes accepted meanwhile.
            Assert.True(acceptedWhileDown > 0, $"no vote was accepted while {what} was down: the outage did not meet the burst");
        }

        var ledger = await LedgerIdsAsync(window);
        var missing = crowd.Accepted.Keys.Where(id => !ledger.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} accepted votes are not in the ledger (a 202 that was not on disk?), e.g. {string.Join(", ", missing.Take(5))}");
        var unknown = ledger.Where(id => !crowd.Accepted.ContainsKey(id)).ToList();
        Assert.True(unknown.Count == 0, $"{unknown.Count} ledger votes were never accepted (a vote twice under another id?), e.g. {string.Join(", ", unknown.Take(5))}");
        Assert.Equal(accepted, persisted);
        Assert.Equal(accepted, await _rig.IngressAcceptedAsync(window));

        var expected = crowd.Accepted.Values.GroupBy(c => c).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(expected, await _rig.LedgerCountsAsync(window));
        Assert.Equal(accepted, await LedgerTotalAsync(window));
        Assert.Equal(accepted, results.GetProperty("total").GetInt64());
        foreach (var (candidate, n) in expected)
        {
            Assert.Equal(n, results.GetProperty("counts").GetProperty(candidate).GetInt64());
        }
    }

    private async Task<bool> IngressKnowsAsync(string window, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var r = await _rig.IngressHttp.SendAsync(request);
        return r.StatusCode != System.Net.HttpStatusCode.NotFound;
    }

    /// <summary>Ledger rows of the window; while PostgreSQL is still coming back, -1.</summary>
    private async Task<long> LedgerCountAsync(string window)
    {
        try
        {
            return await _rig.LedgerCountAsync(window);
        }
        catch (NpgsqlException)
        {
            return -1;
        }
    }

    private async Task<HashSet<Guid>> LedgerIdsAsync(string window) => await _rig.LedgerIdsAsync(window);

    /// <summary>The tally's persisted total of the window (window_totals), raised in the same transaction as the rows.</summary>
    private async Task<long> LedgerTotalAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(_rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT persisted FROM window_totals WHERE window_id = $1");
        cmd.Parameters.AddWithValue(window);
        return (long)(await cmd.ExecuteScalarAsync() ?? -1L);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan within, Func<string> seen)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"not reached within {within.TotalSeconds:F0} s: {seen()}");
    }
}
