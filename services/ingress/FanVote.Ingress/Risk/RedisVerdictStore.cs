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
/// A restarted instance loads what is stored before it takes traffic. None of this is on the vote path.
/// </summary>
public sealed class RedisVerdictStore(IConnectionMultiplexer redis, VerdictCache cache, TimeProvider time)
{
    private const string VerdictsKey = "ingress:verdicts";
    private const string PassedKey = "ingress:verdicts:passed";
    private static readonly RedisChannel Channel = RedisChannel.Literal("ingress:verdicts");

    public async Task SaveAsync(CachedVerdict v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var db = redis.GetDatabase();
        if (v.Action == RiskAction.Clear)
        {
            await db.HashDeleteAsync(VerdictsKey, Field(v.SubjectKind, v.Subject));
        }
        else
        {
            await db.HashSetAsync(VerdictsKey, Field(v.SubjectKind, v.Subject), JsonSerializer.Serialize(v, FanVoteJson.Options));
        }

        await db.PublishAsync(Channel, JsonSerializer.Serialize(new Message("verdict", v), FanVoteJson.Options));
    }

    public async Task PassAsync(CachedVerdict v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var db = redis.GetDatabase();
        await db.HashSetAsync(PassedKey, v.ChallengeId.ToString(), v.ExpiresAt.ToUnixTimeMilliseconds());
        await db.HashDeleteAsync(VerdictsKey, Field(v.SubjectKind, v.Subject));
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
            }
        }

        var loaded = 0;
        foreach (var e in await db.HashGetAllAsync(VerdictsKey))
        {
            var v = JsonSerializer.Deserialize<CachedVerdict>((string)e.Value!, FanVoteJson.Options);
            if (v is not null && cache.Apply(v, now))
            {
                loaded++;
            }
            else
            {
                await db.HashDeleteAsync(VerdictsKey, e.Name); // lapsed (or passed) while ingress was down
            }
        }

        return loaded;
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

    private sealed record Message(string Kind, CachedVerdict Verdict);
}
