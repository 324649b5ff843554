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
/// sidecar with app id `ingress` that publishes votes the way ingress does (bulk).
/// </summary>
public sealed class TallyRig : IAsyncLifetime
{
    private readonly ResourceFolder _resources;

    public TallyRig()
        : this(ResourceFolder.LocalComponents())
    {
    }

    private TallyRig(ResourceFolder resources) => _resources = resources;

    /// <summary>The same rig on other resources, e.g. the local components with a different resiliency.</summary>
    public static TallyRig On(ResourceFolder resources) => new(resources);

    public RedisServer Redis { get; private set; } = null!;

    public PostgresDatabase Db { get; private set; } = null!;

    public ServiceHost Tally { get; private set; } = null!;

    public SidecarHost Publisher { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Db = await PostgresDatabase.CreateAsync("tally");
        Tally = new ServiceHost(AppIds.Tally, "FanVote.Tally", _resources.Path,
            appEnv: new Dictionary<string, string?> { ["FANVOTE_PG_CONNECTION"] = Db.ConnectionString }, redisHost: Redis.Address);
        Publisher = new SidecarHost(AppIds.Ingress, _resources.Path, env: new Dictionary<string, string?> { ["FANVOTE_REDIS_HOST"] = Redis.Address });
        await Task.WhenAll(Tally.StartAsync(), Publisher.StartAsync());
        Client = new DaprClientBuilder().UseGrpcEndpoint(Publisher.GrpcEndpoint).UseHttpEndpoint(Publisher.HttpEndpoint)
            .UseJsonSerializationOptions(FanVoteJson.Options).Build();
    }

    public static List<VoteAccepted> Votes(string window, int n, int candidates = 3) =>
        [.. Enumerable.Range(0, n).Select(i => new VoteAccepted
        {
            EventId = Guid.NewGuid(),
            OccurredAt = DateTimeOffset.UtcNow,
            VoteId = Guid.NewGuid(),
            WindowId = window,
            CandidateId = "c" + (i % candidates),
            AccountId = "acc-" + (i % 997),
            DeviceId = "dev-" + (i % 991),
            Ip = $"198.51.100.{i % 250}",
            AccountCreatedAt = DateTimeOffset.UtcNow.AddDays(-30),
        })];

    public async Task PublishAsync(IReadOnlyList<VoteAccepted> votes, int batch = 500)
    {
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
        await using var mux = await ConnectionMultiplexer.ConnectAsync(Redis.Address);
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
