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
    // One hash per (window, account) holds the account's quota count (field "q") and its idempotency records
    // (field "i:<Idempotency-Key>"), and expires an hour after the window closes: two keyspace entries per fan
    // and window instead of one per vote, and small hashes are stored compactly.
    // KEYS, 3 per vote: the account hash, the rate hash of the current second (fields a:<account>, d:<device>,
    // i:<ip prefix>), the account's erasure marker (set when the fan erased the account: its sessions vote no more). ARGV[1..3]: account / device / ip-prefix limit per second; then 6 per vote: idempotency
    // field, record, quota, hash ttl s, device field, ip-prefix field (the account's field is its hash's name).
    // Returns 2 values per vote: outcome ('ok' | 'dup' | 'quota' | 'rate' | 'erased') and its detail.
    // The common path takes first and gives back on refusal (claim the key, count the quota and the three
    // rates; only a refused vote undoes what it took): five commands per admitted vote, no reads before writes.
    // Increments are passed as strings, so Lua never formats a number.
    private const string AdmitScript = """
        local out = {}
        local names = {'account', 'device', 'ip-prefix'}
        local limits = {tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])}
        local rates = {}
        for v = 0, #KEYS / 3 - 1 do
          local acct, rate = KEYS[v * 3 + 1], KEYS[v * 3 + 2]
          local a = 3 + v * 6
          local idem = ARGV[a + 1]
          local outcome, detail = 'ok', ''
          if redis.call('EXISTS', KEYS[v * 3 + 3]) == 1 then
            outcome = 'erased'
          elseif redis.call('HSETNX', acct, idem, ARGV[a + 2]) == 0 then
            outcome, detail = 'dup', redis.call('HGET', acct, idem)
          else
            local used = redis.call('HINCRBY', acct, 'q', '1')
            if used == 1 then redis.call('EXPIRE', acct, ARGV[a + 4]) end
            if used > tonumber(ARGV[a + 3]) then
              redis.call('HINCRBY', acct, 'q', '-1')
              redis.call('HDEL', acct, idem)
              outcome = 'quota'
            else
              local fields = {'a:' .. acct, ARGV[a + 5], ARGV[a + 6]}
              for i = 1, 3 do
                if redis.call('HINCRBY', rate, fields[i], '1') > limits[i] then
                  for j = 1, i do redis.call('HINCRBY', rate, fields[j], '-1') end
                  redis.call('HINCRBY', acct, 'q', '-1')
                  redis.call('HDEL', acct, idem)
                  outcome, detail = 'rate', names[i]
                  break
                end
              end
              rates[rate] = true
            end
          end
          out[#out + 1] = outcome
          out[#out + 1] = detail
        end
        for key in pairs(rates) do redis.call('EXPIRE', key, '2') end
        return out
        """;

    // KEYS: n account hashes, then n accepted-counter keys, then n unconfirmed sets (same order). ARGV: n idempotency
    // fields, then n committed records, then n vote ids, then the time to live (s) of an account hash a late commit
    // finds gone (expired since admission) and so creates anew. A vote is counted only when its record was still
    // pending, so a commit repeated after a lost reply counts nothing; a counted vote leaves the unconfirmed set
    // (where a retry after a 503 finds it).
    private const string CommitScript = """
        local n = #KEYS / 3
        local counts = {}
        for i = 1, n do
          if redis.call('HGET', KEYS[i], ARGV[i]) ~= ARGV[n + i] then
            redis.call('HSET', KEYS[i], ARGV[i], ARGV[n + i])
            if redis.call('TTL', KEYS[i]) == -1 then redis.call('EXPIRE', KEYS[i], ARGV[3 * n + 1]) end
            local c = KEYS[n + i]
            counts[c] = (counts[c] or 0) + 1
            redis.call('SREM', KEYS[2 * n + i], ARGV[2 * n + i])
          end
        end
        for c, x in pairs(counts) do redis.call('INCRBY', c, tostring(x)) end
        return n
        """;

    /// <summary>Unconfirmed votes are kept this long: long enough for any drain and audit, even one held for days.</summary>
    private static readonly TimeSpan UnconfirmedKeptFor = TimeSpan.FromDays(14);

    /// <summary>Time to live of an account hash a commit had to create again (it expired between admission and commit).</summary>
    private static readonly TimeSpan LateCommitKeptFor = TimeSpan.FromDays(1);

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

    public static string UnconfirmedKey(string windowId) => $"ingress:unconfirmed:{windowId}";

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

    public async Task<IdempotencyRecord?> FindAsync(string windowId, string accountId, string idempotencyKey, CancellationToken cancellationToken)
    {
        var v = await _redis.GetDatabase().HashGetAsync(AccountKey(windowId, accountId), IdempotencyField(idempotencyKey)).WaitAsync(cancellationToken);
        return v.IsNull ? null : IdempotencyRecord.Parse((string)v!);
    }

    public async Task CommitAsync(IReadOnlyList<VoteCommit> votes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(votes);
        if (votes.Count == 0)
        {
            return;
        }

        var n = votes.Count;
        var keys = new RedisKey[n * 3];
        var args = new RedisValue[(n * 3) + 1];
        for (var i = 0; i < n; i++)
        {
            var v = votes[i];
            keys[i] = AccountKey(v.WindowId, v.AccountId);
            keys[n + i] = AcceptedKey(v.WindowId);
            keys[(2 * n) + i] = UnconfirmedKey(v.WindowId);
            args[i] = IdempotencyField(v.IdempotencyKey);
            args[n + i] = (v.Record with { Committed = true }).Serialize();
            args[(2 * n) + i] = v.Record.VoteId.ToString("N");
        }

        args[n * 3] = (long)LateCommitKeptFor.TotalSeconds;

        await _redis.GetDatabase().ScriptEvaluateAsync(CommitScript, keys, args).WaitAsync(cancellationToken);
    }

    public async Task MarkUnconfirmedAsync(IReadOnlyList<(string WindowId, Guid VoteId)> votes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(votes);
        var db = _redis.GetDatabase();
        foreach (var group in votes.GroupBy(v => v.WindowId, StringComparer.Ordinal))
        {
            var key = UnconfirmedKey(group.Key);
            await db.SetAddAsync(key, [.. group.Select(v => (RedisValue)v.VoteId.ToString("N"))]).WaitAsync(cancellationToken);
            await db.KeyExpireAsync(key, UnconfirmedKeptFor).WaitAsync(cancellationToken);
        }
    }

    public async Task<(IReadOnlyList<Guid> VoteIds, bool Truncated)> UnconfirmedAsync(string windowId, int max, CancellationToken cancellationToken)
    {
        var db = _redis.GetDatabase();
        var key = UnconfirmedKey(windowId);
        var count = await db.SetLengthAsync(key).WaitAsync(cancellationToken);
        if (count == 0)
        {
            return ([], false);
        }

        var ids = new List<Guid>((int)Math.Min(count, max));
        await foreach (var m in db.SetScanAsync(key, pageSize: 1000).WithCancellation(cancellationToken))
        {
            if (ids.Count == max)
            {
                break;
            }

            ids.Add(Guid.ParseExact((string)m!, "N"));
        }

        return (ids, count > max);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _workers;
        _stop.Dispose();
    }

    public static string AccountKey(string windowId, string accountId) => $"ingress:votes:{windowId}:{accountId}";

    /// <summary>Set while an erased account's sessions may still be valid: its votes are refused.</summary>
    public static string ErasedKey(string accountId) => $"ingress:erased:{accountId}";

    private static string IdempotencyField(string idempotencyKey) => "i:" + idempotencyKey;

    private async Task AdmitBatchAsync(List<Pending> batch, CancellationToken stop)
    {
        var keys = new RedisKey[batch.Count * 3];
        var args = new RedisValue[3 + (batch.Count * 6)];
        // Every request of one process carries the same limits (they come from IngressOptions).
        var limits = batch[0].Request.Limits;
        args[0] = limits.PerAccount;
        args[1] = limits.PerDevice;
        args[2] = limits.PerIpPrefix;
        RedisKey rate = default;
        long rateSecond = -1;
        for (var i = 0; i < batch.Count; i++)
        {
            var r = batch[i].Request;
            if (batch[i].Second != rateSecond)
            {
                rateSecond = batch[i].Second;
                rate = $"ingress:rl:{rateSecond.ToString(CultureInfo.InvariantCulture)}";
            }

            keys[i * 3] = AccountKey(r.WindowId, r.AccountId);
            keys[(i * 3) + 1] = rate;
            keys[(i * 3) + 2] = ErasedKey(r.AccountId);
            var a = 3 + (i * 6);
            args[a + 0] = IdempotencyField(r.IdempotencyKey);
            args[a + 1] = r.NewRecord.Serialize();
            args[a + 2] = r.Quota;
            args[a + 3] = (long)Math.Max(60, r.QuotaLifetime.TotalSeconds);
            args[a + 4] = "d:" + r.DeviceId;
            args[a + 5] = "i:" + r.IpPrefix;
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
                    "erased" => new AdmissionResult(AdmissionOutcome.AccountErased),
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
