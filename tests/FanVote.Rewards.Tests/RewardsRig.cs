using Dapr.Client;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Security;
using FanVote.Testing;
using Npgsql;

namespace FanVote.Rewards.Tests;

/// <summary>
/// Rewards beside its sidecar on a private Redis and a fresh database, set up as `./fanvote up` does: the migrate
/// step (`FanVote.Rewards migrate`) runs with the admin connection (<see cref="Db"/>) and creates a restricted role of
/// this rig's own (<see cref="RewardsConnection"/>), the only connection rewards gets; rewards anchors the ledger's
/// heads to <see cref="AnchorFile"/>. Sidecars with app ids `tally` and
/// `orchestrator` through which the tests publish what those would (counted voters; payout requests): pub/sub scopes
/// let each app id publish only its own topics.
/// </summary>
public sealed class RewardsRig : IAsyncLifetime
{
    private readonly ResourceFolder _resources = ResourceFolder.LocalComponents();

    public RedisServer Redis { get; private set; } = null!;

    public PostgresDatabase Db { get; private set; } = null!;

    public ServiceHost Rewards { get; private set; } = null!;

    /// <summary>The restricted role rewards connects as (FANVOTE_REWARDS_PG_CONNECTION): one per rig, roles are cluster-wide.</summary>
    public string RewardsConnection => _role?.ConnectionString ?? "";

    public string Role => _role?.Name ?? "";

    private RewardsLedgerRole? _role;

    /// <summary>FANVOTE_LEDGER_ANCHORS: where rewards appends the ledger's heads.</summary>
    public string AnchorFile { get; private set; } = "";

    private readonly string _dir = Directory.CreateTempSubdirectory("fanvote-rewards-").FullName;

    public SidecarHost Publisher { get; private set; } = null!;

    /// <summary>Publishes as tally (counted voters).</summary>
    public DaprClient Client { get; private set; } = null!;

    /// <summary>Publishes as the orchestrator (reward requests).</summary>
    public DaprClient Orchestrator { get; private set; } = null!;

    /// <summary>How long a payout here waits for a voter's missing consent record (production: 10 minutes).</summary>
    public static readonly TimeSpan ConsentWait = TimeSpan.FromSeconds(30);

    /// <summary>Publishes as ingress (consent changes).</summary>
    public DaprClient Ingress { get; private set; } = null!;

    private Publishers _others = null!;

    /// <summary>Long enough for the last of a thousand spins queued behind the ledger's lock on a loaded machine.</summary>
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(120) };

    /// <summary>Tokens as ingress signs them, with the deployment's token key (rewards checks with the same).</summary>
    public SessionTokens Tokens { get; } = new([("t1", TestKeys.TokenKey)], TimeSpan.FromHours(1), TimeProvider.System);

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Db = await PostgresDatabase.CreateAsync("rewards");
        _role = await RewardsLedgerRole.MigrateAsync(Db);
        AnchorFile = Path.Combine(_dir, "ledger-anchors.jsonl");
        Rewards = new ServiceHost(AppIds.Rewards, "FanVote.Rewards", _resources.Path,
            appEnv: new Dictionary<string, string?>
            {
                ["FANVOTE_REWARDS_PG_CONNECTION"] = RewardsConnection,
                ["FANVOTE_LEDGER_ANCHORS"] = AnchorFile,
                ["Rewards__AnchorInterval"] = "00:00:02",
                ["Rewards__ConsentWait"] = RewardsRig.ConsentWait.ToString(),
            },
            redisHost: Redis.Address);
        var env = TestKeys.SidecarEnvironment(AppIds.Tally);
        env["FANVOTE_REDIS_HOST"] = Redis.Address;
        Publisher = new SidecarHost(AppIds.Tally, _resources.Path, env: env);
        _others = new Publishers(_resources.Path, Redis.Address, FanVoteJson.Options);
        await Task.WhenAll(Rewards.StartAsync(), Publisher.StartAsync());
        Client = Publisher.Client(FanVoteJson.Options);
        Orchestrator = await _others.AsAsync(AppIds.Orchestrator);
        Ingress = await _others.AsAsync(AppIds.Ingress);
    }

    /// <summary>Voters "acc-0".. with the given counted votes for candidates x and y, and the request the orchestrator would send for them.</summary>
    public static (List<CountedVoter> Voters, PayoutRequested Request) Payout(string window, int voters, int chunkSize, PayoutRules rules)
    {
        var list = Enumerable.Range(0, voters).Select(i => new CountedVoter
        {
            AccountId = $"{window}-acc-{i:D3}",
            Votes = i % 3 == 0 ? new Dictionary<string, long> { ["x"] = 1 + (i % 4), ["y"] = 1 } : new Dictionary<string, long> { ["y"] = 1 + (i % 2) },
        }).ToList();
        return (list, new PayoutRequested
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, Seq = 1, Rules = rules, Winners = ["x"],
            Voters = voters, VoterChunks = (voters + chunkSize - 1) / chunkSize, VotersDigest = VotersDigest.Of(list),
        });
    }

    public Task RequestPayoutAsync(PayoutRequested request) =>
        Orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.RewardRequests, request with { EventId = Guid.NewGuid() },
            new Dictionary<string, string> { [EventTypes.MetadataKey] = EventTypes.PayoutRequested });

    /// <summary>What ingress publishes when a fan changes their consent: "rewards" given or not, as of <paramref name="at"/>.</summary>
    public Task ConsentAsync(string accountId, bool rewards, DateTimeOffset at) =>
        Ingress.PublishEventAsync(ComponentNames.VoteBus, Topics.ConsentEvents, new ConsentChanged
        {
            EventId = Guid.NewGuid(), OccurredAt = at, AccountId = accountId, AgeBand = "unknown",
            Purposes = rewards ? ["counting", "fraud-prevention", "rewards"] : ["counting", "fraud-prevention"],
        }, new Dictionary<string, string> { [EventTypes.MetadataKey] = EventTypes.ConsentChanged });

    /// <summary>
    /// Tally's counted voters for the payout. First every voter not in <paramref name="withoutConsent"/> gives "rewards"
    /// (as their sign-in would have, through ingress), and rewards has recorded it: payouts credit only them.
    /// </summary>
    public async Task SendVotersAsync(string window, List<CountedVoter> voters, int chunkSize, IReadOnlyCollection<string>? withoutConsent = null)
    {
        var consenting = voters.Select(v => v.AccountId).Where(a => withoutConsent?.Contains(a) != true).ToArray();
        foreach (var account in consenting)
        {
            await ConsentAsync(account, rewards: true, DateTimeOffset.UtcNow);
        }

        var deadline = DateTime.UtcNow.AddSeconds(60);
        long recorded;
        while ((recorded = await ScalarAsync("SELECT count(*) FROM reward_consent WHERE granted AND account_id = ANY($1)", [consenting])) < consenting.Length)
        {
            Assert.True(DateTime.UtcNow < deadline, $"rewards recorded the consent of {recorded} of {consenting.Length} voters in 60 s");
            await Task.Delay(100);
        }

        var chunks = voters.Chunk(chunkSize).ToList();
        for (var i = 0; i < chunks.Count; i++)
        {
            await Client.PublishEventAsync(ComponentNames.VoteBus, Topics.CountedVoters, new CountedVotersChunk
            {
                EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, ChunkIndex = i, ChunkCount = chunks.Count, Voters = chunks[i],
            });
        }
    }

    /// <summary>Every message of this window on <paramref name="topic"/> with CloudEvent type <paramref name="type"/>.</summary>
    public async Task<List<Guid>> EventsAsync(string topic, string type, string window) =>
        [.. (await StreamEvents.ReadAsync(Redis.Address, topic)).Where(e => e.Type == type && e.WindowId == window).Select(e => e.EventId)];

    public async Task<long> ScalarAsync(string sql, params object[] args)
    {
        await using var db = NpgsqlDataSource.Create(Db.ConnectionString);
        await using var cmd = db.CreateCommand(sql);
        foreach (var a in args)
        {
            cmd.Parameters.AddWithValue(a);
        }

        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task ExecAsync(string sql)
    {
        await using var db = NpgsqlDataSource.Create(Db.ConnectionString);
        await using var cmd = db.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Client?.Dispose();
        if (_others is not null)
        {
            await _others.DisposeAsync();
        }

        foreach (var d in new IAsyncDisposable?[] { Rewards, Publisher, Db, Redis })
        {
            if (d is not null)
            {
                await d.DisposeAsync();
            }
        }

        if (_role is not null)
        {
            await _role.DisposeAsync();
        }

        _resources.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
