using System.Globalization;
using FanVote.Sidecar.Components;
using StackExchange.Redis;

namespace FanVote.Sidecar.State;

/// <summary>
/// `state.redis` with components-contrib's layout and etag rules (docs/dapr-subset.md §6.5): a hash per key with
/// `data`, `version` (the etag, HINCRBY per write) and `first-write`; writes and deletes are Lua scripts so
/// the etag check and the write are atomic. Transactions check every etag before applying anything (stricter
/// than contrib's MULTI, which has no rollback), in one script.
/// </summary>
public sealed class RedisStateStore(ComponentSpec spec, ILogger<RedisStateStore> log) : IStateStore
{
    // ARGV[1] = op count; then per op 5 values: kind ("set"|"del"), etag ("" = none), data, first-write
    // ("1" = FIRST_WRITE), ttl ("" = none, "-1" = persist, n = seconds). Returns the new versions (0 for deletes),
    // or an error "ETAG_MISMATCH <key>".
    private const string ApplyScript = """
        local n = tonumber(ARGV[1])
        for i = 1, n do
          local b = 1 + (i - 1) * 5
          local kind, etag = ARGV[b + 1], ARGV[b + 2]
          local ktype = redis.call("TYPE", KEYS[i])["ok"]
          if ktype ~= "hash" and ktype ~= "none" then redis.call("DEL", KEYS[i]) end
          local ver = redis.call("HGET", KEYS[i], "version")
          if kind == "set" then
            local fw = redis.call("HGET", KEYS[i], "first-write")
            if ver and ver ~= "" and ver ~= etag and not (not fw and (etag == "" or etag == "0")) then
              return redis.error_reply("ETAG_MISMATCH " .. KEYS[i])
            end
          else
            if ver and etag ~= "" and etag ~= "0" and ver ~= etag then
              return redis.error_reply("ETAG_MISMATCH " .. KEYS[i])
            end
          end
        end
        local out = {}
        for i = 1, n do
          local b = 1 + (i - 1) * 5
          local kind, data, fw, ttl = ARGV[b + 1], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
          if kind == "set" then
            redis.call("HSET", KEYS[i], "data", data)
            if fw == "1" then redis.call("HSET", KEYS[i], "first-write", 0) end
            out[i] = redis.call("HINCRBY", KEYS[i], "version", 1)
            if ttl == "-1" then redis.call("PERSIST", KEYS[i])
            elseif ttl ~= "" then redis.call("EXPIRE", KEYS[i], tonumber(ttl)) end
          else
            redis.call("DEL", KEYS[i])
            out[i] = 0
          end
        end
        return out
        """;

    // Returns {data, version, pttl}; legacy plain strings come back with version "".
    private const string ReadScript = """
        local t = redis.call("TYPE", KEYS[1])["ok"]
        if t == "none" then return false end
        if t == "string" then return {redis.call("GET", KEYS[1]), "", redis.call("PTTL", KEYS[1])} end
        local d = redis.call("HMGET", KEYS[1], "data", "version")
        return {d[1] or "", d[2] or "", redis.call("PTTL", KEYS[1])}
        """;

    private ConnectionMultiplexer? _mux;
    private int _replicas;

    public ComponentSpec Spec => spec;

    private IDatabase Db => (_mux ?? throw new InvalidOperationException("not initialised")).GetDatabase(
        int.TryParse(spec.Get("redisDB"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var db) ? db : 0);

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        var host = spec.Get("redisHost") is { Length: > 0 } h
            ? h
            : throw new ArgumentException("metadata redisHost is required (host:port)");
        var options = ConfigurationOptions.Parse(host);
        options.Password = spec.Get("redisPassword") is { Length: > 0 } pw ? pw : null;
        options.User = spec.Get("redisUsername") is { Length: > 0 } user ? user : null;
        options.Ssl = spec.GetBool("enableTLS");
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 5000;
        _replicas = int.TryParse(spec.Get("redisReplicas"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : 0;
        _mux = await ConnectionMultiplexer.ConnectAsync(options);
        await Db.PingAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        StateLog.StoreReady(log, spec.Name, host);
    }

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var result = await Db.ScriptEvaluateAsync(ReadScript, [key]).WaitAsync(cancellationToken);
        if (result.IsNull)
        {
            return null;
        }

        var parts = (RedisResult[])result!;
        var pttl = (long)parts[2];
        DateTimeOffset? expires = pttl > 0 ? DateTimeOffset.UtcNow.AddMilliseconds(pttl) : null;
        return new StateEntry((byte[])parts[0]! ?? [], (string?)parts[1] ?? "", StateTtl.ExpiryMetadata(expires));
    }

    public async Task SetAsync(StateWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await ExecuteTransactionAsync([new UpsertOperation(write)], cancellationToken);
        if (write.Consistency == StateConsistency.Strong && _replicas > 0)
        {
            await Db.ExecuteAsync("WAIT", _replicas, 1000).WaitAsync(cancellationToken);
        }
    }

    public Task DeleteAsync(StateDelete request, CancellationToken cancellationToken) =>
        ExecuteTransactionAsync([new DeleteOperation(request)], cancellationToken);

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        if (operations.Count == 0)
        {
            return;
        }

        var keys = new RedisKey[operations.Count];
        var args = new List<RedisValue> { operations.Count };
        for (var i = 0; i < operations.Count; i++)
        {
            switch (operations[i])
            {
                case UpsertOperation { Write: var w }:
                    keys[i] = w.Key;
                    var etag = w.Concurrency == StateConcurrency.LastWrite ? "" : ValidEtag(w.ETag);
                    var ttl = StateTtl.Resolve(w.Metadata, spec);
                    args.AddRange(["set", etag, w.Value.ToArray(), w.Concurrency == StateConcurrency.FirstWrite ? "1" : "0",
                        ttl?.ToString(CultureInfo.InvariantCulture) ?? ""]);
                    break;
                case DeleteOperation { Delete: var d }:
                    keys[i] = d.Key;
                    args.AddRange(["del", d.Concurrency == StateConcurrency.LastWrite ? "" : ValidEtag(d.ETag), "", "0", ""]);
                    break;
                default:
                    throw new StateStoreException($"unknown operation {operations[i].GetType().Name}");
            }
        }

        try
        {
            await Db.ScriptEvaluateAsync(ApplyScript, keys, [.. args]).WaitAsync(cancellationToken);
        }
        catch (RedisServerException e) when (e.Message.Contains("ETAG_MISMATCH", StringComparison.Ordinal))
        {
            throw new StateETagMismatchException($"possible etag mismatch: {e.Message}");
        }
        catch (RedisException e)
        {
            throw new StateStoreException($"redis error in state store {spec.Name}: {e.Message}", e);
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Db.PingAsync().WaitAsync(cancellationToken);
            return true;
        }
        catch (RedisException)
        {
            return false;
        }
    }

    /// <summary>SCAN MATCH over the whole keyspace (as contrib's KeysLike does), then ordered and paged here.</summary>
    public async Task<IReadOnlyList<string>> ListKeysAsync(string prefix, string suffix, string? after, int limit, CancellationToken cancellationToken)
    {
        var pattern = GlobEscape(prefix) + "*" + GlobEscape(suffix);
        var server = _mux!.GetServers().First(s => s.IsConnected && !s.IsReplica);
        var found = new List<string>();
        await foreach (var k in server.KeysAsync(Db.Database, pattern, pageSize: 1000).WithCancellation(cancellationToken))
        {
            var key = (string)k!;
            if (after is null || string.CompareOrdinal(key, after) > 0)
            {
                found.Add(key);
            }
        }

        found.Sort(StringComparer.Ordinal);
        return found.Count > limit ? found.GetRange(0, limit) : found;
    }

    private static string GlobEscape(string s)
    {
        var b = new System.Text.StringBuilder(s.Length);
        foreach (var c in s)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                b.Append('\\');
            }

            b.Append(c);
        }

        return b.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (_mux is not null)
        {
            await _mux.DisposeAsync();
        }
    }

    /// <summary>Redis etags are the integer version; anything else is invalid (INVALID_ARGUMENT, not a mismatch).</summary>
    private static string ValidEtag(string? etag) =>
        string.IsNullOrEmpty(etag) || long.TryParse(etag, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
            ? etag ?? ""
            : throw new StateETagInvalidException($"invalid etag value: '{etag}' is not a number");
}
