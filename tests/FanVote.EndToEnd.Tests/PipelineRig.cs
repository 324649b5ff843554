using System.Net.Http.Json;
using System.Text.Json;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Testing;
using Npgsql;
using StackExchange.Redis;

namespace FanVote.EndToEnd.Tests;

/// <summary>
/// Every service of the vote pipeline beside its own local sidecar, on private Redis and a fresh ledger database.
/// With <c>lifecycle</c>, also rewards and a sidecar with app id `fraud` (the tests publish VotesFlagged through it),
/// and the orchestrator runs with short waits so a window goes from creation to Completed in seconds.
/// <paramref name="ingressEnv"/> replaces ingress's settings (default: rate limits raised for load tests);
/// <paramref name="withFraud"/> adds the fraud service (scoring with a copy of the promoted model).
/// </summary>
public sealed class PipelineRig(bool lifecycle, IReadOnlyDictionary<string, string?>? ingressEnv = null, bool withFraud = false, bool withResults = true) : IAsyncLifetime
{
    /// <summary>The operator key the orchestrator runs with (<see cref="TestKeys"/>).</summary>
    public static string OperatorKey => TestKeys.OperatorKey;

    /// <summary>
    /// What every ingress of the rig runs with, whatever the test sets: the test client is the trusted reverse proxy
    /// (127.0.0.1), so X-Forwarded-For gives each simulated fan their own address; and the sign-in limits are raised,
    /// since the tests sign in thousands of fans from that one address in seconds.
    /// </summary>
    public static Dictionary<string, string?> IngressBase { get; } = new()
    {
        ["FANVOTE_TRUSTED_PROXIES"] = "127.0.0.1/32",
        ["Ingress__SignIn__GuestPerIpPerMinute"] = "1000000",
        ["Ingress__SignIn__GuestPerIpPerDay"] = "1000000",
        ["Ingress__SignIn__GuestPerPrefixPerMinute"] = "1000000",
    };
    private readonly ResourceFolder _resources = ResourceFolder.LocalComponents();

    private string? _models;

    public PipelineRig()
        : this(lifecycle: false)
    {
    }

    /// <summary>The pipeline with ingress settings of the test's own, optionally the fraud service, optionally without results.</summary>
    public PipelineRig(IReadOnlyDictionary<string, string?>? ingressEnv, bool withFraud = false, bool withResults = true)
        : this(lifecycle: false, ingressEnv, withFraud, withResults)
    {
    }

    /// <summary>Lifecycle waits for tests: a window goes from its close to Completed in a few seconds.</summary>
    public static Dictionary<string, string?> FastLifecycle { get; } = new()
    {
        ["Orchestrator__Lifecycle__AcceptSettle"] = "00:00:01",
        ["Orchestrator__Lifecycle__FlagGrace"] = "00:00:05",
        ["Orchestrator__Lifecycle__PollInitial"] = "00:00:00.300",
        ["Orchestrator__Lifecycle__PollMax"] = "00:00:01",
        ["Orchestrator__Lifecycle__FailureBackoffMax"] = "00:00:02",
    };

    /// <summary>The components every sidecar of the rig loads (components/local, as `./fanvote up` uses them).</summary>
    public string ResourcesPath => _resources.Path;

    /// <summary>A private PostgreSQL server for the ledger (a test that kills the database); null: the shared test server.</summary>
    public PostgresServer? DatabaseServer { get; init; }

    private Publishers? _others;

    private readonly int _rewardsPort = Ports.Free();

    /// <summary>Where rewards listens (<c>lifecycle</c>), known before it starts: ingress's fan web app is given it.</summary>
    public string RewardsUrl => $"http://127.0.0.1:{_rewardsPort}";

    /// <summary>Where ingress writes one-time passcodes (<c>lifecycle</c>; Development's stand-in for the SMS gateway): "contact code" lines.</summary>
    public string OtpOutbox { get; private set; } = Path.Combine(Path.GetTempPath(), "fv-e2e-otp-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>Settings every FanVote app of the rig gets besides its own (e.g. the OTEL_* variables of a trace test).</summary>
    public IReadOnlyDictionary<string, string?> ServiceEnv { get; init; } = new Dictionary<string, string?>();

    /// <summary>The restricted role rewards connects as (<c>lifecycle</c>), one per rig: roles are server-wide.</summary>
    private RewardsLedgerRole? _rewardsRole;

    /// <summary>FANVOTE_REWARDS_PG_CONNECTION of rewards (<c>lifecycle</c>).</summary>
    public string RewardsConnection => _rewardsRole?.ConnectionString ?? "";

    /// <summary>FANVOTE_LEDGER_ANCHORS of rewards (<c>lifecycle</c>): where it appends the ledger's heads.</summary>
    public string LedgerAnchors { get; private set; } = "";

    public RedisServer Redis { get; private set; } = null!;

    public PostgresDatabase Db { get; private set; } = null!;

    public ServiceHost Orchestrator { get; private set; } = null!;

    public ServiceHost Ingress { get; private set; } = null!;

    public ServiceHost Tally { get; private set; } = null!;

    public ServiceHost Results { get; private set; } = null!;

    public ServiceHost? Rewards { get; private set; }

    /// <summary>The fraud service (<c>withFraud</c>).</summary>
    public ServiceHost? Fraud { get; private set; }

    /// <summary>A bare sidecar with app id `fraud` (<c>lifecycle</c>): the tests publish what the fraud service would.</summary>
    public SidecarHost? FraudSidecar { get; private set; }

    /// <summary>A DaprClient on <see cref="FraudSidecar"/>.</summary>
    public DaprClient? FraudClient { get; private set; }

    public HttpClient IngressHttp { get; } = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { Timeout = TimeSpan.FromSeconds(60) };

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Db = DatabaseServer is { } server ? await server.CreateDatabaseAsync("e2e") : await PostgresDatabase.CreateAsync("e2e");
        var orchestratorEnv = With(lifecycle ? FastLifecycle : []);
        Orchestrator = new ServiceHost(AppIds.Orchestrator, "FanVote.Orchestrator", _resources.Path, appEnv: orchestratorEnv, redisHost: Redis.Address);
        Tally = new ServiceHost(AppIds.Tally, "FanVote.Tally", _resources.Path,
            appEnv: With(new() { ["FANVOTE_PG_CONNECTION"] = Db.ConnectionString }), redisHost: Redis.Address);
        Results = new ServiceHost(AppIds.Results, "FanVote.Results", _resources.Path, appEnv: With([]), redisHost: Redis.Address);
        var ingressSettings = With(IngressBase);
        foreach (var (k, v) in ingressEnv ?? new Dictionary<string, string?> { ["Ingress__PerAccountPerSecond"] = "1000", ["Ingress__PerDevicePerSecond"] = "1000" })
        {
            ingressSettings[k] = v;
        }

        if (lifecycle)
        {
            // Within the 1 s AcceptSettle above, as IngressOptions.RepublishAfterClose asks.
            ingressSettings["Ingress__RepublishAfterClose"] = "00:00:00";

            // The fan web app (GET /app on ingress) calls rewards and results from the browser; rewards allows its origin below.
            ingressSettings["FanApp__RewardsUrl"] = RewardsUrl;
            ingressSettings["FanApp__ResultsUrl"] = Results.BaseUrl;
            if (ingressSettings.TryGetValue("Ingress__OtpOutbox", out var own) && !string.IsNullOrEmpty(own))
            {
                OtpOutbox = own; // the test's own outbox (the attack suite's)
            }
            else
            {
                ingressSettings["Ingress__OtpOutbox"] = OtpOutbox;
            }
        }

        Ingress = new ServiceHost(AppIds.Ingress, "FanVote.Ingress", _resources.Path, appEnv: ingressSettings, redisHost: Redis.Address);
        var starting = new List<Task> { Orchestrator.StartAsync(), Tally.StartAsync(), Ingress.StartAsync() };
        if (withResults)
        {
            starting.Add(Results.StartAsync());
        }

        if (withFraud)
        {
            _models = ModelCopy.OfPromoted();
            Fraud = new ServiceHost(AppIds.Fraud, "FanVote.Fraud", _resources.Path,
                appEnv: With(new() { ["FANVOTE_MODEL_ROOT"] = _models }), redisHost: Redis.Address);
            starting.Add(Fraud.StartAsync());
        }

        if (lifecycle)
        {
            // As `./fanvote up` runs it: the migrate step (admin connection) makes the schema and a role that can only
            // insert and read the points ledger; rewards connects as that role and anchors the ledger's heads to a file.
            _rewardsRole = await RewardsLedgerRole.MigrateAsync(Db);
            LedgerAnchors = Path.Combine(_resources.Path, "ledger-anchors.jsonl");
            Rewards = new ServiceHost(AppIds.Rewards, "FanVote.Rewards", _resources.Path,
                appEnv: With(new()
                {
                    ["FANVOTE_REWARDS_PG_CONNECTION"] = RewardsConnection, ["FANVOTE_LEDGER_ANCHORS"] = LedgerAnchors,
                    ["FANVOTE_FAN_APP_ORIGINS"] = Ingress.BaseUrl,
                }),
                appPort: _rewardsPort, redisHost: Redis.Address);
            var fraudSidecarEnv = TestKeys.SidecarEnvironment(AppIds.Fraud);
            fraudSidecarEnv["FANVOTE_REDIS_HOST"] = Redis.Address;
            FraudSidecar = new SidecarHost(AppIds.Fraud, _resources.Path, env: fraudSidecarEnv);
            starting.Add(Rewards.StartAsync());
            starting.Add(FraudSidecar.StartAsync());
        }

        await Task.WhenAll(starting);
        if (FraudSidecar is not null)
        {
            FraudClient = FraudSidecar.Client(FanVoteJson.Options);
        }

        IngressHttp.BaseAddress = new Uri(Ingress.BaseUrl);
    }

    /// <summary>An app's own settings after <see cref="ServiceEnv"/> (its own win).</summary>
    private Dictionary<string, string?> With(Dictionary<string, string?> own)
    {
        var env = new Dictionary<string, string?>(ServiceEnv);
        foreach (var (k, v) in own)
        {
            env[k] = v;
        }

        return env;
    }

    public Task CreateWindowAsync(string windowId, string[] candidates, int votesPerAccount) =>
        CreateWindowAsync(windowId, candidates, votesPerAccount, DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow.AddMinutes(30));

    public async Task CreateWindowAsync(string windowId, string[] candidates, int votesPerAccount, DateTimeOffset opensAt, DateTimeOffset closesAt, bool stepByStep = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Orchestrator.BaseUrl + "/v1/windows")
        {
            Content = JsonContent.Create(new { windowId, title = "E2E " + windowId, candidates, opensAt, closesAt, votesPerAccount, stepByStep }),
        };
        request.Headers.Add("X-Operator-Key", OperatorKey);
        using var r = await Http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
    }

    public async Task<long> LedgerCountAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT count(*) FROM votes WHERE window_id = $1");
        cmd.Parameters.AddWithValue(window);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>The points ledger's rows, in chain order (for LedgerVerifier).</summary>
    public static async Task<List<FanVote.Rewards.Core.LedgerEntry>> LedgerRowsAsync(NpgsqlDataSource db)
    {
        await using var cmd = db.CreateCommand("SELECT seq, entry_id, window_id, debit_account, credit_account, amount, reason, created_at, prev_hash, hash FROM ledger_entries ORDER BY seq");
        var rows = new List<FanVote.Rewards.Core.LedgerEntry>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            rows.Add(new FanVote.Rewards.Core.LedgerEntry(r.GetInt64(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt64(5), r.GetString(6),
                r.GetFieldValue<DateTimeOffset>(7), (byte[])r[8], (byte[])r[9]));
        }

        return rows;
    }

    /// <summary>Every account's stored balance.</summary>
    public static async Task<Dictionary<string, long>> StoredBalancesAsync(NpgsqlDataSource db)
    {
        await using var cmd = db.CreateCommand("SELECT account, balance FROM account_balances");
        var balances = new Dictionary<string, long>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            balances[r.GetString(0)] = r.GetInt64(1);
        }

        return balances;
    }

    public async Task<Dictionary<string, long>> LedgerCountsAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT candidate_id, count(*) FROM votes WHERE window_id = $1 GROUP BY 1");
        cmd.Parameters.AddWithValue(window);
        var d = new Dictionary<string, long>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            d[r.GetString(0)] = r.GetInt64(1);
        }

        return d;
    }

    public async Task<HashSet<Guid>> LedgerIdsAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT vote_id FROM votes WHERE window_id = $1");
        cmd.Parameters.AddWithValue(window);
        var ids = new HashSet<Guid>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            ids.Add(r.GetGuid(0));
        }

        return ids;
    }

    /// <summary>How many votes ingress reports as accepted (answered 202) for the window.</summary>
    public async Task<long> IngressAcceptedAsync(string window)
    {
        await using var mux = await TestRedis.ConnectAsync(Redis.Address);
        return (long)await mux.GetDatabase().StringGetAsync($"ingress:accepted:{window}");
    }

    /// <summary>A DaprClient publishing as app <paramref name="appId"/> (a sidecar of that id with no app behind it, started on first use): e.g. fraud's flags when the rig has no fraud service.</summary>
    public Task<DaprClient> AsAsync(string appId) => (_others ??= new Publishers(_resources.Path, Redis.Address, FanVoteJson.Options)).AsAsync(appId);

    /// <summary>Flagged votes per first reason in tally's `vote_flags` for the window (empty before the first flag).</summary>
    public async Task<Dictionary<string, long>> FlagsByReasonAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT reason, count(*) FROM vote_flags WHERE window_id = $1 GROUP BY 1");
        cmd.Parameters.AddWithValue(window);
        var d = new Dictionary<string, long>();
        try
        {
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                d[r.GetString(0)] = r.GetInt64(1);
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
        }

        return d;
    }

    /// <summary>The orchestrator's action log (operator key), read until <paramref name="done"/> holds for its rows (60 s at most).</summary>
    public async Task<List<JsonElement>> ActionsAsync(Func<List<JsonElement>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        List<JsonElement> rows;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{Orchestrator.BaseUrl}/v1/actions?limit=500");
            request.Headers.Add("X-Operator-Key", OperatorKey);
            using var r = await Http.SendAsync(request);
            r.EnsureSuccessStatusCode();
            using var page = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            rows = [.. page.RootElement.GetProperty("actions").EnumerateArray().Select(e => e.Clone())];
            if (done(rows))
            {
                break;
            }

            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);

        return rows;
    }

    /// <summary>The operator's watch of the window (GET /v1/windows/{id}/watch on the orchestrator, with the operator key).</summary>
    public async Task<JsonElement> WatchAsync(string window)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Orchestrator.BaseUrl}/v1/windows/{window}/watch");
        request.Headers.Add("X-Operator-Key", OperatorKey);
        using var r = await Http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, r.StatusCode);
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<JsonElement> ResultsAsync(string window)
    {
        using var r = await Http.GetAsync(new Uri($"{Results.BaseUrl}/v1/windows/{window}/results"));
        return r.IsSuccessStatusCode ? (await r.Content.ReadFromJsonAsync<JsonElement>()) : default;
    }

    public async ValueTask DisposeAsync()
    {
        IngressHttp.Dispose();
        Http.Dispose();
        FraudClient?.Dispose();
        if (_others is not null)
        {
            await _others.DisposeAsync();
        }

        foreach (var d in new IAsyncDisposable?[] { Ingress, Fraud, Results, Tally, Orchestrator, Rewards, FraudSidecar, Db, Redis })
        {
            if (d is not null)
            {
                await d.DisposeAsync();
            }
        }

        if (_rewardsRole is not null)
        {
            await _rewardsRole.DisposeAsync();
        }

        _resources.Dispose();
        File.Delete(OtpOutbox);
        if (_models is not null)
        {
            Directory.Delete(_models, recursive: true);
        }
    }
}
