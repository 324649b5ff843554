using System.Globalization;
using FanVote.Ingress.Core;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FanVote.Ingress.Adapters;

/// <summary>
/// Idempotency, quota and rate limits in Redis, checked and taken atomically by a Lua script. Concurrent votes
/// are group-committed: one script call admits a whole batch in order (so two votes of one account in one
/// batch see each other), which costs Redis one command parse and one reply per batch instead of per vote.
/// Rate limits are fixed one-second windows (one hash per second, fields per account, device and IP prefix);
/// a refused vote takes nothing.
/// </summary>
/// <remarks>
/// A batch touches many accounts' keys in one script, so ingress's Redis must be one primary (standalone or
/// replicated), not a cluster; one Redis core admits well over the per-instance vote rate (see README, capacity).
/// </remarks>
public sealed class RedisAdmissionStore : IAdmissionStore, IAsyncDisposable
{
    // KEYS: 3 per vote: idempotency, quota, and the rate hash of the current second (fields a:<account>,
    // d:<device>, i:<ip prefix>). ARGV[1]: idempotency ttl s; then 9 per vote: record, quota, quota ttl s,
    // account / device / ip-prefix limit, and the three rate field names. Returns 2 values per vote: outcome
    // ('ok' | 'dup' | 'quota' | 'rate') and its detail.
    // The common path takes first and gives back on refusal: claim the key (SET NX GET), count the quota and
    // the three rates, and only a refused vote undoes what it took. That is five commands for an admitted vote,
    // with no reads before writes; a refused vote still takes nothing.
    private const string AdmitScript = """
        local out = {}
        local names = {'account', 'device', 'ip-prefix'}
        local rates = {}
        for v = 0, #KEYS / 3 - 1 do
          local k = v * 3
          local a = 1 + v * 9
          local outcome, detail = 'ok', ''
          local existing = redis.call('SET', KEYS[k + 1], ARGV[a + 1], 'NX', 'GET', 'EX', ARGV[1])
          if existing then
            outcome, detail = 'dup', existing
          else
            local used = redis.call('INCR', KEYS[k + 2])
            if used > tonumber(ARGV[a + 2]) then
              redis.call('DECR', KEYS[k + 2])
              redis.call('DEL', KEYS[k + 1])
              outcome = 'quota'
            else
              if used == 1 then redis.call('EXPIRE', KEYS[k + 2], ARGV[a + 3]) end
              local fields = {ARGV[a + 7], ARGV[a + 8], ARGV[a + 9]}
              for i = 1, 3 do
                if redis.call('HINCRBY', KEYS[k + 3], fields[i], 1) > tonumber(ARGV[a + 3 + i]) then
                  for j = 1, i do redis.call('HINCRBY', KEYS[k + 3], fields[j], -1) end
                  redis.call('DECR', KEYS[k + 2])
                  redis.call('DEL', KEYS[k + 1])
                  outcome, detail = 'rate', names[i]
                  break
                end
              end
              rates[KEYS[k + 3]] = true
            end
          end
          out[#out + 1] = outcome
          out[#out + 1] = detail
        end
        for key in pairs(rates) do redis.call('EXPIRE', key, 2) end
        return out
        """;

    // KEYS: n idempotency keys, then n accepted-counter keys (same order). ARGV[1]: ttl s; ARGV[1 + i]: committed record.
    // SET ... GET swaps in the committed record and says what was there: a vote is counted only when it was
    // still pending, so a commit repeated after a lost reply counts nothing.
    private const string CommitScript = """
        local n = #KEYS / 2
        local counts = {}
        for i = 1, n do
          if redis.call('SET', KEYS[i], ARGV[1 + i], 'GET', 'EX', ARGV[1]) ~= ARGV[1 + i] then
            local c = KEYS[n + i]
            counts[c] = (counts[c] or 0) + 1
          end
        end
        for c, x in pairs(counts) do redis.call('INCRBY', c, x) end
        return n
        """;

    private static readonly TimeSpan IdempotencyLifetime = TimeSpan.FromDays(2);

    private readonly IConnectionMultiplexer _redis;
    private readonly TimeProvider _time;
    private readonly GroupCommit<Pending> _admissions;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _workers;

    public RedisAdmissionStore(IConnectionMultiplexer redis, TimeProvider time, IOptions<IngressOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _time = time;
        var o = options.Value;
        _admissions = new GroupCommit<Pending>(o.MaxQueue, o.MaxAdmissionBatch, AdmitBatchAsync);
        _workers = _admissions.RunAsync(o.AdmissionWorkers, _stop.Token);
    }

    public static string AcceptedKey(string windowId) => $"ingress:accepted:{windowId}";

    public Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pending = new Pending(request, _time.GetUtcNow().ToUnixTimeSeconds());
        if (!_admissions.TryEnqueue(pending))
        {
            throw new RedisException("the admission queue is full: Redis is not keeping up");
        }

        return pending.Done.Task;
    }

    public async Task<IdempotencyRecord?> FindAsync(string accountId, string idempotencyKey, CancellationToken cancellationToken)
    {
        var v = await _redis.GetDatabase().StringGetAsync(IdempotencyKey(accountId, idempotencyKey)).WaitAsync(cancellationToken);
        return v.IsNull ? null : IdempotencyRecord.Parse((string)v!);
    }

    public async Task CommitAsync(IReadOnlyList<VoteCommit> votes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(votes);
        if (votes.Count == 0)
        {
            return;
        }

        var keys = new RedisKey[votes.Count * 2];
        var args = new RedisValue[votes.Count + 1];
        args[0] = (long)IdempotencyLifetime.TotalSeconds;
        for (var i = 0; i < votes.Count; i++)
        {
            var v = votes[i];
            keys[i] = IdempotencyKey(v.AccountId, v.IdempotencyKey);
            keys[votes.Count + i] = AcceptedKey(v.WindowId);
            args[i + 1] = (v.Record with { Committed = true }).Serialize();
        }

        await _redis.GetDatabase().ScriptEvaluateAsync(CommitScript, keys, args).WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _workers;
        _stop.Dispose();
    }

    private static string IdempotencyKey(string accountId, string key) => $"ingress:idem:{accountId}:{key}";

    private async Task AdmitBatchAsync(List<Pending> batch, CancellationToken stop)
    {
        var keys = new RedisKey[batch.Count * 3];
        var args = new RedisValue[1 + (batch.Count * 9)];
        args[0] = (long)IdempotencyLifetime.TotalSeconds;
        for (var i = 0; i < batch.Count; i++)
        {
            var r = batch[i].Request;
            keys[(i * 3) + 0] = IdempotencyKey(r.AccountId, r.IdempotencyKey);
            keys[(i * 3) + 1] = $"ingress:quota:{r.WindowId}:{r.AccountId}";
            keys[(i * 3) + 2] = $"ingress:rl:{batch[i].Second.ToString(CultureInfo.InvariantCulture)}";
            var a = 1 + (i * 9);
            args[a + 0] = r.NewRecord.Serialize();
            args[a + 1] = r.Quota;
            args[a + 2] = (long)Math.Max(60, r.QuotaLifetime.TotalSeconds);
            args[a + 3] = r.Limits.PerAccount;
            args[a + 4] = r.Limits.PerDevice;
            args[a + 5] = r.Limits.PerIpPrefix;
            args[a + 6] = "a:" + r.AccountId;
            args[a + 7] = "d:" + r.DeviceId;
            args[a + 8] = "i:" + r.IpPrefix;
        }

        try
        {
            var r = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(AdmitScript, keys, args))!;
            for (var i = 0; i < batch.Count; i++)
            {
                var detail = (string)r[(i * 2) + 1]!;
                batch[i].Done.TrySetResult((string)r[i * 2]! switch
                {
                    "ok" => new AdmissionResult(AdmissionOutcome.Admitted),
                    "dup" => new AdmissionResult(AdmissionOutcome.Duplicate, IdempotencyRecord.Parse(detail)),
                    "quota" => new AdmissionResult(AdmissionOutcome.QuotaExhausted),
                    _ => new AdmissionResult(AdmissionOutcome.RateLimited, LimitedBy: detail),
                });
            }
        }
        catch (Exception e)
        {
            foreach (var p in batch)
            {
                p.Done.TrySetException(e);
            }
        }
    }

    private sealed class Pending(AdmissionRequest request, long second)
    {
        public AdmissionRequest Request { get; } = request;

        public long Second { get; } = second;

        // Continuations run inline on the batch's thread: each request's next step (queueing its publish) is
        // short, and a thread-pool hop per vote costs more than the step itself.
        public TaskCompletionSource<AdmissionResult> Done { get; } = new();
    }
}
