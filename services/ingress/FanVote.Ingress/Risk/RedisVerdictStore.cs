using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Ingress.Core;
using StackExchange.Redis;

namespace FanVote.Ingress.Risk;

/// <summary>
/// Verdicts and passed challenges in ingress's own Redis, and their fan-out to every ingress instance. Instances of one
/// app id share one consumer group on `risk-verdicts`, so each verdict reaches only one of them: that one stores it and
/// publishes it on a Redis channel every instance listens to (itself included); a passed challenge travels the same way.
/// A restarted instance loads what is stored before it takes traffic. None of this is on the vote path. Each hash has
/// a sorted set beside it (field → when it lapses), and <see cref="PruneAsync"/> removes lapsed fields from both, so
/// the hashes hold what is in force, not every verdict ever issued.
/// </summary>
public sealed class RedisVerdictStore(IConnectionMultiplexer redis, VerdictCache cache, TimeProvider time)
{
    private const string VerdictsKey = "ingress:verdicts";
    private const string PassedKey = "ingress:verdicts:passed";
    private const string VerdictsExpiryKey = "ingress:verdicts:expiry";
    private const string PassedExpiryKey = "ingress:verdicts:passed:expiry";

    /// <summary>Removes up to ARGV[2] fields lapsed by ARGV[1] (ms) from hash KEYS[1] and its index KEYS[2].</summary>
    private const string PruneScript = """
        local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        if #due > 0 then
          redis.call('HDEL', KEYS[1], unpack(due))
          redis.call('ZREM', KEYS[2], unpack(due))
        end
        return #due
        """;
    private static readonly RedisChannel Channel = RedisChannel.Literal("ingress:verdicts");

    public async Task SaveAsync(CachedVerdict v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var db = redis.GetDatabase();
        var field = Field(v.SubjectKind, v.Subject);
        var tx = db.CreateTransaction();
        if (v.Action == RiskAction.Clear)
        {
            Forget(tx, field);
        }
        else
        {
            _ = tx.HashSetAsync(VerdictsKey, field, JsonSerializer.Serialize(v, FanVoteJson.Options));
            _ = tx.SortedSetAddAsync(VerdictsExpiryKey, field, v.ExpiresAt.ToUnixTimeMilliseconds());
        }

        await tx.ExecuteAsync();

        await db.PublishAsync(Channel, JsonSerializer.Serialize(new Message("verdict", v), FanVoteJson.Options));
    }

    public async Task PassAsync(CachedVerdict v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var db = redis.GetDatabase();
        var challenge = v.ChallengeId.ToString();
        var until = v.ExpiresAt.ToUnixTimeMilliseconds();
        var tx = db.CreateTransaction();
        _ = tx.HashSetAsync(PassedKey, challenge, until);
        _ = tx.SortedSetAddAsync(PassedExpiryKey, challenge, until);
        Forget(tx, Field(v.SubjectKind, v.Subject));
        await tx.ExecuteAsync();
        await db.PublishAsync(Channel, JsonSerializer.Serialize(new Message("passed", v), FanVoteJson.Options));
    }

    /// <summary>Listens to the other instances, then loads everything stored (in that order, so nothing falls between).</summary>
    public async Task<int> StartAsync()
    {
        await redis.GetSubscriber().SubscribeAsync(Channel, (_, m) => Receive(m));
        var db = redis.GetDatabase();
        var now = time.GetUtcNow();
        foreach (var e in await db.HashGetAllAsync(PassedKey))
        {
            var until = DateTimeOffset.FromUnixTimeMilliseconds((long)e.Value);
            if (until <= now)
            {
                await db.HashDeleteAsync(PassedKey, e.Name);
            }
            else if (Guid.TryParse((string?)e.Name, out var id))
            {
                cache.Pass("", "", id, until);
                await db.SortedSetAddAsync(PassedExpiryKey, e.Name, (long)e.Value); // an index written before it existed
            }
        }

        var loaded = 0;
        foreach (var e in await db.HashGetAllAsync(VerdictsKey))
        {
            var v = JsonSerializer.Deserialize<CachedVerdict>((string)e.Value!, FanVoteJson.Options);
            if (v is not null && cache.Apply(v, now))
            {
                loaded++;
                await db.SortedSetAddAsync(VerdictsExpiryKey, e.Name, v.ExpiresAt.ToUnixTimeMilliseconds());
            }
            else
            {
                await db.HashDeleteAsync(VerdictsKey, e.Name); // lapsed (or passed) while ingress was down
            }
        }

        return loaded;
    }

    /// <summary>Removes verdicts and passed challenges lapsed by <paramref name="now"/> from Redis; returns how many.</summary>
    public async Task<long> PruneAsync(DateTimeOffset now)
    {
        var db = redis.GetDatabase();
        var ms = now.ToUnixTimeMilliseconds();
        long removed = 0;
        foreach (var (hash, index) in new[] { (VerdictsKey, VerdictsExpiryKey), (PassedKey, PassedExpiryKey) })
        {
            long batch;
            do
            {
                batch = (long)await db.ScriptEvaluateAsync(PruneScript, [hash, index], [ms, 1000]);
                removed += batch;
            }
            while (batch == 1000);
        }

        return removed;
    }

    private void Receive(RedisValue message)
    {
        var m = JsonSerializer.Deserialize<Message>((string)message!, FanVoteJson.Options);
        if (m?.Verdict is not { } v)
        {
            return;
        }

        if (m.Kind == "passed")
        {
            cache.Pass(v.SubjectKind, v.Subject, v.ChallengeId, v.ExpiresAt);
        }
        else
        {
            cache.Apply(v, time.GetUtcNow());
        }
    }

    private static string Field(string kind, string subject) => $"{kind}:{subject}";

    /// <summary>Removes a verdict and its expiry together (inside <paramref name="tx"/>).</summary>
    private static void Forget(ITransaction tx, string field)
    {
        _ = tx.HashDeleteAsync(VerdictsKey, field);
        _ = tx.SortedSetRemoveAsync(VerdictsExpiryKey, field);
    }

    private sealed record Message(string Kind, CachedVerdict Verdict);
}
