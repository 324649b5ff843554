using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Security;
using FanVote.Testing;
using Npgsql;
using StackExchange.Redis;

namespace FanVote.EndToEnd.Tests.Attacks;

/// <summary>
/// FanVote started the way `./fanvote up` starts it (every app beside its own local sidecar on components/local, the
/// keys and tokens of <see cref="TestKeys"/>, Development as `up` runs it), with three windows an attacker wants to
/// change: <see cref="Closed"/> voted, closed, audited, certified and paid out; <see cref="Open"/> with votes cast
/// and open for the next hour; <see cref="Voting"/>, open, where the tests' honest fans vote. <see cref="Baseline"/> is
/// what an attack must leave as it was: the counts, the certified result, the balances, the audits.
/// </summary>
public sealed class AttackRig : IAsyncLifetime
{
    public static readonly string[] Candidates = ["aurora", "blaze", "comet"];

    private readonly string _outbox = Directory.CreateTempSubdirectory("fv-attack-otp-").FullName;

    public AttackRig()
    {
        Pipeline = new PipelineRig(lifecycle: true, ingressEnv: new Dictionary<string, string?>
        {
            ["Ingress__PerAccountPerSecond"] = "1000",
            ["Ingress__PerDevicePerSecond"] = "1000",
            ["Ingress__OtpOutbox"] = Path.Combine(_outbox, "outbox"),
        });
    }

    public PipelineRig Pipeline { get; }

    /// <summary>Sidecars with the app id of a service (no app behind them): what an insider holding the API token could use.</summary>
    public Publishers Insider { get; private set; } = null!;

    public string Closed { get; } = "atk-closed-" + Guid.NewGuid().ToString("N")[..6];

    public string Open { get; } = "atk-open-" + Guid.NewGuid().ToString("N")[..6];

    public string Voting { get; } = "atk-voting-" + Guid.NewGuid().ToString("N")[..6];

    /// <summary>Where ingress (Development) writes the passcodes it would text.</summary>
    public string OtpOutbox => _outbox;

    public List<Fan> Fans { get; } = [];

    public Snapshot Baseline { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Pipeline.InitializeAsync();
        Insider = new Publishers(Pipeline.ResourcesPath, Pipeline.Redis.Address, FanVoteJson.Options);
        for (var i = 0; i < 6; i++)
        {
            Fans.Add(await SignInAsync($"atk-fan-{i}-{Guid.NewGuid():N}", $"203.0.113.{10 + i}"));
        }

        var now = DateTimeOffset.UtcNow;
        await Pipeline.CreateWindowAsync(Open, Candidates, 5, now.AddSeconds(-1), now.AddHours(1));
        await Pipeline.CreateWindowAsync(Voting, Candidates, 1000, now.AddSeconds(-1), now.AddHours(1));
        var opensAt = DateTimeOffset.UtcNow.AddSeconds(3);
        await Pipeline.CreateWindowAsync(Closed, Candidates, 5, opensAt, opensAt.AddSeconds(30)); // 12 votes go in first, on a loaded machine too
        // One Idempotency-Key per vote, however many tries: a try answered 503 may still have reached the broker, and a
        // fresh key would then count the same tap twice.
        var openKey = Guid.NewGuid().ToString("N");
        var closedKey = Guid.NewGuid().ToString("N");
        await WaitAsync(async () => (await VoteAsync(Fans[0], Open, "aurora", openKey)).Status == HttpStatusCode.Accepted, "ingress opens the open window", 120);
        await WaitAsync(async () => (await VoteAsync(Fans[0], Closed, "aurora", closedKey)).Status == HttpStatusCode.Accepted, "ingress opens the window that will close", 120);
        foreach (var (fan, i) in Fans.Select((f, i) => (f, i)))
        {
            await CastAsync(fan, Closed, Candidates[i % 3]);
            await CastAsync(fan, Closed, Candidates[(i + 1) % 3]);
            await CastAsync(fan, Open, Candidates[(i + 2) % 3]);
        }

        // Closed runs its course: close, drain, audit (signed), certified, paid out, completed.
        await WaitAsync(async () => await PhaseAsync(Closed) == "Completed", $"window {Closed} completes (phase now {await PhaseAsync(Closed)})", 240);
        await WaitAsync(async () => (await Pipeline.Http.GetAsync(new Uri($"{Pipeline.Results.BaseUrl}/v1/windows/{Closed}/certified"))).StatusCode == HttpStatusCode.OK, "results serves the certified result", 120);
        await WaitAsync(async () => await Pipeline.LedgerCountAsync(Open) == 1 + Fans.Count, $"the open window's votes are in the ledger ({await Pipeline.LedgerCountAsync(Open)} of {1 + Fans.Count})", 180);
        await WaitAsync(async () => (await LiveCountsAsync(Open)).Contains("\"total\":7", StringComparison.Ordinal), $"results shows the open window's 7 votes ({await LiveCountsAsync(Open)})", 180);
        Baseline = await SnapshotAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Insider.DisposeAsync();
        await Pipeline.DisposeAsync();
        Directory.Delete(_outbox, recursive: true);
    }

    /// <summary>A fan signed in as a guest on <paramref name="device"/>, voting from <paramref name="ip"/> (through the trusted proxy).</summary>
    public async Task<Fan> SignInAsync(string device, string ip)
    {
        using var r = await Pipeline.IngressHttp.PostAsJsonAsync("/v1/sessions/guest", new { deviceId = device, consent = TestConsent.Fan });
        r.EnsureSuccessStatusCode();
        var token = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        using var tokens = new SessionTokens([("t1", TestKeys.TokenKey)], TimeSpan.FromHours(1), TimeProvider.System);
        Assert.Equal(TokenError.None, tokens.Validate(token, out var claims));
        return new Fan(claims!.AccountId, device, ip, token);
    }

    public async Task<VoteAnswer> VoteAsync(Fan fan, string window, string candidate, string? key = null, Action<HttpRequestMessage>? tamper = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes")
        {
            Content = new StringContent($"{{\"candidateId\":\"{candidate}\"}}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fan.Token);
        request.Headers.Add("Idempotency-Key", key ?? Guid.NewGuid().ToString("N"));
        request.Headers.Add("X-Forwarded-For", fan.Ip);
        tamper?.Invoke(request);
        using var r = await Pipeline.IngressHttp.SendAsync(request);
        var body = await r.Content.ReadAsStringAsync();
        using var doc = body.Length > 0 && body[0] == '{' ? JsonDocument.Parse(body) : null;
        var root = doc?.RootElement;
        return new VoteAnswer(r.StatusCode,
            root is { } a && a.TryGetProperty("voteId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetGuid() : null,
            root is { } b && b.TryGetProperty("challengeId", out var c) ? c.GetString() : null,
            body);
    }

    /// <summary>Votes until accepted (a 503/429 is retried with the same key); returns the vote id.</summary>
    public async Task<Guid> CastAsync(Fan fan, string window, string candidate)
    {
        var key = Guid.NewGuid().ToString("N");
        for (var attempt = 0; ; attempt++)
        {
            var a = await VoteAsync(fan, window, candidate, key);
            if (a.Status == HttpStatusCode.Accepted)
            {
                return a.VoteId!.Value;
            }

            Assert.True(attempt < 50 && a.Status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests, $"an honest vote answered {(int)a.Status}: {a.Body}");
            await Task.Delay(200);
        }
    }

    public async Task<string> PhaseAsync(string window)
    {
        using var r = await OperatorAsync(HttpMethod.Get, $"/v1/windows/{window}");
        if (r.StatusCode != HttpStatusCode.OK)
        {
            return $"({(int)r.StatusCode})";
        }

        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("phase").GetString()!;
    }

    public async Task<HttpResponseMessage> OperatorAsync(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, Pipeline.Orchestrator.BaseUrl + path);
        request.Headers.Add("X-Operator-Key", PipelineRig.OperatorKey);
        return await Pipeline.Http.SendAsync(request);
    }

    /// <summary>The live counts results serves for a window (what the fan page shows).</summary>
    public async Task<string> LiveCountsAsync(string window)
    {
        using var r = await Pipeline.Http.GetAsync(new Uri($"{Pipeline.Results.BaseUrl}/v1/windows/{window}/results"));
        if (!r.IsSuccessStatusCode)
        {
            return $"({(int)r.StatusCode})";
        }

        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        return $"{{\"total\":{doc.RootElement.GetProperty("total").GetInt64()},\"counts\":{doc.RootElement.GetProperty("counts").GetRawText()}}}";
    }

    /// <summary>
    /// Waits until every event published on <paramref name="topic"/> so far has been delivered to
    /// <paramref name="appId"/> and acknowledged (its consumer group has nothing pending and nothing unread): after that
    /// a forged event has had whatever effect it was going to have.
    /// </summary>
    public async Task DeliveredAsync(string topic, string appId)
    {
        await using var mux = await TestRedis.ConnectAsync(Pipeline.Redis.Address);
        var db = mux.GetDatabase();
        var seen = "";
        await WaitAsync(async () =>
        {
            var last = (string?)(await db.ExecuteAsync("XINFO", "STREAM", topic)).ToDictionary()["last-generated-id"];
            foreach (var g in (RedisResult[])(await db.ExecuteAsync("XINFO", "GROUPS", topic))!)
            {
                var info = g.ToDictionary();
                if ((string?)info["name"] == appId)
                {
                    seen = $"pending {(long)info["pending"]}, last delivered {(string?)info["last-delivered-id"]}, stream at {last}";
                    return (long)info["pending"] == 0 && (string?)info["last-delivered-id"] == last;
                }
            }

            seen = $"no consumer group {appId} on {topic}";
            return false;
        }, $"{appId} has taken every event on {topic} ({seen})", 60);
    }

    public async Task<Snapshot> SnapshotAsync()
    {
        await using var db = NpgsqlDataSource.Create(Pipeline.Db.ConnectionString);
        var balances = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using (var cmd = db.CreateCommand("SELECT account, balance FROM account_balances"))
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                balances[r.GetString(0)] = r.GetInt64(1);
            }
        }

        long entries;
        await using (var cmd = db.CreateCommand("SELECT count(*) FROM ledger_entries"))
        {
            entries = (long)(await cmd.ExecuteScalarAsync())!;
        }

        var audits = new List<string>();
        await using (var cmd = db.CreateCommand("SELECT window_id FROM window_audits ORDER BY 1"))
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                audits.Add(r.GetString(0));
            }
        }

        return new Snapshot(
            Join(await Pipeline.LedgerCountsAsync(Closed)),
            Join(await Pipeline.LedgerCountsAsync(Open)),
            await TextAsync(await OperatorAsync(HttpMethod.Get, $"/v1/windows/{Closed}/certified")),
            await TextAsync(await Pipeline.Http.GetAsync(new Uri($"{Pipeline.Results.BaseUrl}/v1/windows/{Closed}/certified"))),
            await TextAsync(await OperatorAsync(HttpMethod.Get, $"/v1/windows/{Open}/certified")),
            await TextAsync(await Pipeline.Http.GetAsync(new Uri($"{Pipeline.Results.BaseUrl}/v1/windows/{Open}/certified"))),
            await PhaseAsync(Closed),
            await PhaseAsync(Open),
            await LiveCountsAsync(Open),
            string.Join(',', balances.Select(kv => $"{kv.Key}={kv.Value}")),
            entries,
            string.Join(',', audits));
    }

    /// <summary>Every figure an attack could have changed, compared with <see cref="Baseline"/>, each named when it differs.</summary>
    public async Task AssertUnchangedAsync()
    {
        var now = await SnapshotAsync();
        Assert.Equal(Baseline.ClosedCounts, now.ClosedCounts);
        Assert.Equal(Baseline.OpenCounts, now.OpenCounts);
        Assert.Equal(Baseline.ClosedCertifiedByOrchestrator, now.ClosedCertifiedByOrchestrator);
        Assert.Equal(Baseline.ClosedCertifiedByResults, now.ClosedCertifiedByResults);
        Assert.Equal(Baseline.OpenCertifiedByOrchestrator, now.OpenCertifiedByOrchestrator);
        Assert.Equal(Baseline.OpenCertifiedByResults, now.OpenCertifiedByResults);
        Assert.Equal(Baseline.ClosedPhase, now.ClosedPhase);
        Assert.Equal(Baseline.OpenPhase, now.OpenPhase);
        Assert.Equal(Baseline.OpenLive, now.OpenLive);
        Assert.Equal(Baseline.Balances, now.Balances);
        Assert.Equal(Baseline.LedgerEntries, now.LedgerEntries);
        Assert.Equal(Baseline.Audits, now.Audits);
    }

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {seconds} s waiting until {what}");
            await Task.Delay(200);
        }
    }

    private static async Task<string> TextAsync(HttpResponseMessage r)
    {
        using (r)
        {
            return $"{(int)r.StatusCode} {(r.IsSuccessStatusCode ? await r.Content.ReadAsStringAsync() : "")}";
        }
    }

    private static string Join(Dictionary<string, long> d) => string.Join(',', d.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
}

public sealed record Fan(string AccountId, string Device, string Ip, string Token);

public sealed record VoteAnswer(HttpStatusCode Status, Guid? VoteId, string? ChallengeId, string Body);

public sealed record Snapshot(
    string ClosedCounts,
    string OpenCounts,
    string ClosedCertifiedByOrchestrator,
    string ClosedCertifiedByResults,
    string OpenCertifiedByOrchestrator,
    string OpenCertifiedByResults,
    string ClosedPhase,
    string OpenPhase,
    string OpenLive,
    string Balances,
    long LedgerEntries,
    string Audits);
