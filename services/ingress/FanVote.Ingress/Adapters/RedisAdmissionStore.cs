using System.Globalization;
using FanVote.Ingress.Core;
using StackExchange.Redis;

namespace FanVote.Ingress.Adapters;

/// <summary>
/// Idempotency, quota and rate limits in one Redis round trip (a Lua script, so the checks and the takes are
/// atomic across every ingress instance). Rate limits are fixed one-second windows; a refused vote takes nothing.
/// </summary>
public sealed class RedisAdmissionStore(IConnectionMultiplexer redis, TimeProvider time) : IAdmissionStore
{
    // KEYS: 1 idempotency, 2 quota, 3 account rate, 4 device rate, 5 ip-prefix rate
    // ARGV: 1 record, 2 quota, 3 idempotency ttl s, 4 quota ttl s, 5 account limit, 6 device limit, 7 ip limit
    private const string Script = """
        local existing = redis.call('GET', KEYS[1])
        if existing then return {'dup', existing} end
        if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then return {'quota', ''} end
        local names = {'', '', 'account', 'device', 'ip-prefix'}
        for i = 3, 5 do
          if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i + 2]) then return {'rate', names[i]} end
        end
        for i = 3, 5 do
          redis.call('INCR', KEYS[i])
          redis.call('EXPIRE', KEYS[i], 2)
        end
        redis.call('INCR', KEYS[2])
        redis.call('EXPIRE', KEYS[2], ARGV[4])
        redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
        return {'ok', ARGV[1]}
        """;

    private static readonly TimeSpan IdempotencyLifetime = TimeSpan.FromDays(2);

    public static string AcceptedKey(string windowId) => $"ingress:accepted:{windowId}";

    public async Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var second = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        RedisKey[] keys =
        [
            IdempotencyKey(request.AccountId, request.IdempotencyKey),
            $"ingress:quota:{request.WindowId}:{request.AccountId}",
            $"ingress:rl:a:{request.AccountId}:{second}",
            $"ingress:rl:d:{request.DeviceId}:{second}",
            $"ingress:rl:i:{request.IpPrefix}:{second}",
        ];
        RedisValue[] args =
        [
            request.NewRecord.Serialize(),
            request.Quota,
            (long)IdempotencyLifetime.TotalSeconds,
            (long)Math.Max(60, request.QuotaLifetime.TotalSeconds),
            request.Limits.PerAccount,
            request.Limits.PerDevice,
            request.Limits.PerIpPrefix,
        ];
        var r = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(Script, keys, args).WaitAsync(cancellationToken))!;
        return (string)r[0]! switch
        {
            "ok" => new AdmissionResult(AdmissionOutcome.Admitted),
            "dup" => new AdmissionResult(AdmissionOutcome.Duplicate, IdempotencyRecord.Parse((string)r[1]!)),
            "quota" => new AdmissionResult(AdmissionOutcome.QuotaExhausted),
            _ => new AdmissionResult(AdmissionOutcome.RateLimited, LimitedBy: (string)r[1]!),
        };
    }

    public async Task<IdempotencyRecord?> FindAsync(string accountId, string idempotencyKey, CancellationToken cancellationToken)
    {
        var v = await redis.GetDatabase().StringGetAsync(IdempotencyKey(accountId, idempotencyKey)).WaitAsync(cancellationToken);
        return v.IsNull ? null : IdempotencyRecord.Parse((string)v!);
    }

    public async Task CommitAsync(string windowId, string accountId, string idempotencyKey, IdempotencyRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var set = batch.StringSetAsync(IdempotencyKey(accountId, idempotencyKey), (record with { Committed = true }).Serialize(), IdempotencyLifetime);
        var count = record.Committed ? Task.FromResult(0L) : batch.StringIncrementAsync(AcceptedKey(windowId));
        batch.Execute();
        await Task.WhenAll(set, count).WaitAsync(cancellationToken);
    }

    private static string IdempotencyKey(string accountId, string key) => $"ingress:idem:{accountId}:{key}";
}
