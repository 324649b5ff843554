using System.Text.Json;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;
using Npgsql;
using StackExchange.Redis;

namespace FanVote.Tally.Tests;

/// <summary>
/// The tally beside its sidecar on the local components, a fresh ledger database, a private Redis, and a
/// sidecar with app id `ingress` that publishes sealed votes the way ingress does (bulk); other apps' messages go
/// through sidecars with their app ids (<see cref="AsAsync"/>: pub/sub scopes allow nothing else). A window is
/// announced (WindowScheduled, as the orchestrator) before its first votes are published.
/// </summary>
public sealed class TallyRig : IAsyncLifetime
{
    private readonly ResourceFolder _resources;

    public TallyRig()
        : this(ResourceFolder.LocalComponents())
    {
    }

    private TallyRig(ResourceFolder resources, IReadOnlyDictionary<string, string?>? appEnv = null)
    {
        _resources = resources;
        _appEnv = appEnv ?? new Dictionary<string, string?>();
    }

    private readonly IReadOnlyDictionary<string, string?> _appEnv;

    /// <summary>The same rig on other resources, e.g. the local components with a different resiliency.</summary>
    public static TallyRig On(ResourceFolder resources) => new(resources);

    /// <summary>The same rig with settings of tally's own (e.g. Tally__PersonalDataFor).</summary>
    public static TallyRig With(IReadOnlyDictionary<string, string?> appEnv) => new(ResourceFolder.LocalComponents(), appEnv);

    public RedisServer Redis { get; private set; } = null!;

    public PostgresDatabase Db { get; private set; } = null!;

    public ServiceHost Tally { get; private set; } = null!;

    public SidecarHost Publisher { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    public Publishers Others { get; private set; } = null!;

    private readonly HashSet<string> _scheduled = new(StringComparer.Ordinal);

    /// <summary>A DaprClient that publishes as <paramref name="appId"/> (orchestrator, fraud, rewards...).</summary>
    public Task<DaprClient> AsAsync(string appId) => Others.AsAsync(appId);

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Db = await PostgresDatabase.CreateAsync("tally");
        Tally = new ServiceHost(AppIds.Tally, "FanVote.Tally", _resources.Path,
            appEnv: new Dictionary<string, string?>(_appEnv) { ["FANVOTE_PG_CONNECTION"] = Db.ConnectionString }, redisHost: Redis.Address);
        var env = TestKeys.SidecarEnvironment(AppIds.Ingress);
        env["FANVOTE_REDIS_HOST"] = Redis.Address;
        Publisher = new SidecarHost(AppIds.Ingress, _resources.Path, env: env);
        await Task.WhenAll(Tally.StartAsync(), Publisher.StartAsync());
        Client = Publisher.Client(FanVoteJson.Options);
        Others = new Publishers(_resources.Path, Redis.Address, FanVoteJson.Options);
    }

    /// <summary>Candidates every window of <see cref="PublishAsync"/> has (unless the test schedules its own).</summary>
    public static readonly string[] Candidates = ["c0", "c1", "c2", "c3", "c4", "c5"];

    /// <summary>Sealed votes accepted at <paramref name="at"/> (default: now), spread over accounts, devices and addresses.</summary>
    public static List<VoteAccepted> Votes(string window, int n, int candidates = 3, DateTimeOffset? at = null) =>
        [.. Enumerable.Range(0, n).Select(i => TestVotes.Sealed(window, "c" + (i % candidates), "acc-" + (i % 997), "dev-" + (i % 991), $"198.51.100.{i % 250}",
            (at ?? DateTimeOffset.UtcNow).AddTicks(i * TimeSpan.TicksPerMillisecond / 8), DateTimeOffset.UtcNow.AddDays(-30)))];

    /// <summary>Announces the window as the orchestrator does, and waits until tally has it.</summary>
    public async Task ScheduleAsync(string window, DateTimeOffset opensAt, DateTimeOffset closesAt, IReadOnlyList<string>? candidates = null)
    {
        var orchestrator = await AsAsync(AppIds.Orchestrator);
        await orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.WindowEvents, new WindowScheduled
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, Title = window, Candidates = candidates ?? Candidates,
            OpensAt = opensAt, ClosesAt = closesAt, VotesPerAccount = 10,
        }, new Dictionary<string, string> { [EventTypes.MetadataKey] = EventTypes.WindowScheduled });
        _scheduled.Add(window);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        await using var db = NpgsqlDataSource.Create(Db.ConnectionString);
        while (true)
        {
            try
            {
                await using var cmd = db.CreateCommand("SELECT count(*) FROM windows WHERE window_id = $1");
                cmd.Parameters.AddWithValue(window);
                if ((long)(await cmd.ExecuteScalarAsync())! == 1)
                {
                    return;
                }
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"tally did not learn window {window} within 2 minutes of its WindowScheduled");
            }

            await Task.Delay(100);
        }
    }

    public async Task PublishAsync(IReadOnlyList<VoteAccepted> votes, int batch = 500)
    {
        foreach (var window in votes.Select(v => v.WindowId).Distinct().Where(w => !_scheduled.Contains(w)).ToList())
        {
            await ScheduleAsync(window, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1));
        }

        foreach (var chunk in votes.Chunk(batch))
        {
            for (var attempt = 0; ; attempt++)
            {
                var r = await Client.BulkPublishEventAsync(ComponentNames.VoteBus, Topics.Votes, chunk);
                if (r.FailedEntries.Count == 0)
                {
                    break;
                }

                if (attempt > 5)
                {
                    throw new InvalidOperationException($"bulk publish kept failing: {r.FailedEntries[0].ErrorMessage}");
                }
            }
        }
    }

    public async Task<long> LedgerCountAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT count(*) FROM votes WHERE window_id = $1");
        cmd.Parameters.AddWithValue(window);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task<long> WaitLedgerAsync(string window, long expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long n;
        while ((n = await LedgerCountAsync(window)) < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        return n;
    }

    /// <summary>(from the ledger rows, from the counts table) per candidate.</summary>
    public async Task<(Dictionary<string, long> Rows, Dictionary<string, long> Counts, long Persisted)> CompareAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(Db.ConnectionString);
        var rows = new Dictionary<string, long>();
        await using (var cmd = db.CreateCommand("SELECT candidate_id, count(*) FROM votes WHERE window_id = $1 GROUP BY 1"))
        {
            cmd.Parameters.AddWithValue(window);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                rows[r.GetString(0)] = r.GetInt64(1);
            }
        }

        var counts = new Dictionary<string, long>();
        await using (var cmd = db.CreateCommand("SELECT candidate_id, votes FROM vote_counts WHERE window_id = $1"))
        {
            cmd.Parameters.AddWithValue(window);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                counts[r.GetString(0)] = r.GetInt64(1);
            }
        }

        await using var tot = db.CreateCommand("SELECT coalesce((SELECT persisted FROM window_totals WHERE window_id = $1), 0)");
        tot.Parameters.AddWithValue(window);
        return (rows, counts, (long)(await tot.ExecuteScalarAsync())!);
    }

    /// <summary>Every TallyUpdated on the stream for <paramref name="window"/>, in stream order.</summary>
    public async Task<List<TallyUpdated>> SnapshotsAsync(string window)
    {
        await using var mux = await TestRedis.ConnectAsync(Redis.Address);
        var list = new List<TallyUpdated>();
        foreach (var e in await mux.GetDatabase().StreamRangeAsync(Topics.TallyUpdated))
        {
            using var ce = JsonDocument.Parse((string)e["data"]!);
            var t = ce.RootElement.GetProperty("data").Deserialize<TallyUpdated>(FanVoteJson.Options)!;
            if (t.WindowId == window)
            {
                list.Add(t);
            }
        }

        return list;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Others is not null)
        {
            await Others.DisposeAsync();
        }

        if (Publisher is not null)
        {
            await Publisher.DisposeAsync();
        }

        if (Tally is not null)
        {
            await Tally.DisposeAsync();
        }

        if (Db is not null)
        {
            await Db.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        _resources.Dispose();
    }
}
