using System.Collections.Concurrent;
using System.Globalization;
using FanVote.Sidecar.Configuration;
using StackExchange.Redis;

namespace FanVote.Sidecar.PubSub;

/// <summary>A broker whose topics the sidecar trims (<see cref="StreamTrimmer"/>).</summary>
public interface IStreamTrimming
{
    /// <summary>Never trims <paramref name="topic"/>: a dead-letter topic, whose entries wait for an operator.</summary>
    void KeepWhole(string topic);
}

/// <summary>What one trim of one stream did.</summary>
/// <param name="Groups">Consumer groups the stream has; 0 means it was left alone (nobody has acknowledged anything).</param>
/// <param name="MinId">The id everything below was removed (<c>XTRIM MINID</c>), or null when there were no groups.</param>
/// <param name="Trimmed">Entries removed.</param>
public readonly record struct TrimResult(int Groups, string? MinId, long Trimmed);

/// <summary>
/// Keeps the streams this sidecar consumes bounded without ever dropping an entry a consumer group still needs
/// (issue 12): every <see cref="Interval"/>, for each stream, one Lua script reads <c>XINFO GROUPS</c> and, per group,
/// the oldest entry it still has to settle — the <c>XPENDING</c> summary's smallest id when something is pending,
/// else its <c>last-delivered-id</c> + 1 (the first entry it has not been given) — takes the smallest over ALL
/// groups of the stream (not only this app's) and runs <c>XTRIM key MINID id</c>. A group that consumed nothing
/// (last-delivered-id 0-0) keeps the whole stream; a stream without groups is never trimmed. The script runs
/// atomically, so no group can be created, read or acknowledged between the look and the trim.
/// <para>daprd's own trim (<c>maxLenApprox</c>, <c>streamTTL</c>) cuts by length or age whatever is pending; leave
/// both unset with this sidecar. Dead-letter topics named by this sidecar's subscriptions are never trimmed: their
/// entries stay for an operator (<c>./fanvote dlq</c>), who removes them by replaying.</para>
/// </summary>
public sealed class StreamTrimmer(Func<IDatabase> db, TimeSpan interval, ILogger log) : IAsyncDisposable
{
    /// <summary>Environment variable with the trim interval (a duration like <c>5s</c> or milliseconds; 0 turns trimming off).</summary>
    public const string IntervalVariable = "FANVOTE_STREAM_TRIM_INTERVAL";

    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    // Stream ids are "<ms>-<seq>" with 64-bit unsigned parts, beyond what a Lua number holds exactly, so they are
    // compared and incremented as decimal strings.
    private const string Script = """
        local function num_lt(a, b)
          if #a ~= #b then return #a < #b end
          return a < b
        end
        local function split(id)
          local dash = string.find(id, '-', 1, true)
          if not dash then return id, '0' end
          return string.sub(id, 1, dash - 1), string.sub(id, dash + 1)
        end
        local function id_lt(a, b)
          local am, as = split(a)
          local bm, bs = split(b)
          if am ~= bm then return num_lt(am, bm) end
          return num_lt(as, bs)
        end
        local function incr(s)
          local i = #s
          local out = ''
          while i >= 1 do
            local d = string.byte(s, i) - 48
            if d < 9 then
              return string.sub(s, 1, i - 1) .. string.char(d + 49) .. out
            end
            out = '0' .. out
            i = i - 1
          end
          return '1' .. out
        end
        local function next_id(id)
          local ms, seq = split(id)
          if seq == '18446744073709551615' then return incr(ms) .. '-0' end
          return ms .. '-' .. incr(seq)
        end
        if redis.call('EXISTS', KEYS[1]) == 0 then return {0, false, 0} end
        local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
        if #groups == 0 then return {0, false, 0} end
        local min = nil
        for _, g in ipairs(groups) do
          local f = {}
          for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
          local keep
          if tonumber(f['pending']) > 0 then
            keep = redis.call('XPENDING', KEYS[1], f['name'])[2]
          else
            keep = next_id(f['last-delivered-id'])
          end
          if min == nil or id_lt(keep, min) then min = keep end
        end
        local trimmed = redis.call('XTRIM', KEYS[1], 'MINID', min)
        return {#groups, min, trimmed}
        """;

    private readonly ConcurrentDictionary<string, byte> _streams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _kept = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public TimeSpan Interval => interval;

    /// <summary>The interval from <see cref="IntervalVariable"/>, else <see cref="DefaultInterval"/>; zero or less turns trimming off.</summary>
    public static TimeSpan IntervalFrom(Func<string, string?> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var v = env(IntervalVariable);
        if (string.IsNullOrWhiteSpace(v))
        {
            return DefaultInterval;
        }

        if (long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        return Durations.TryParse(v, out var d) ? d : throw new FormatException($"{IntervalVariable}={v} is not a duration (e.g. 5s, 500ms, 0 to turn trimming off)");
    }

    /// <summary>Trims <paramref name="stream"/> from now on (unless it is kept whole); starts the loop on the first call.</summary>
    public void Track(string stream)
    {
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        _streams.TryAdd(stream, 0);
        lock (_streams)
        {
            _loop ??= Task.Run(LoopAsync, CancellationToken.None);
        }
    }

    /// <summary>Never trims <paramref name="stream"/> (a dead-letter topic: its entries wait for an operator).</summary>
    public void KeepWhole(string stream) => _kept.TryAdd(stream, 0);

    /// <summary>One trim of <paramref name="stream"/>; see the class summary for what it keeps.</summary>
    public static async Task<TrimResult> TrimAsync(IDatabase db, string stream)
    {
        ArgumentNullException.ThrowIfNull(db);
        var reply = (RedisResult[])(await db.ScriptEvaluateAsync(Script, [stream]))!;
        return new TrimResult((int)reply[0], reply[1].IsNull ? null : (string?)reply[1], (long)reply[2]);
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            foreach (var stream in _streams.Keys)
            {
                if (_kept.ContainsKey(stream))
                {
                    continue;
                }

                try
                {
                    var r = await TrimAsync(db(), stream);
                    if (r.Trimmed > 0)
                    {
                        PubSubLog.Trimmed(log, stream, r.Trimmed, r.MinId ?? "", r.Groups);
                    }
                }
                catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException)
                {
                    // Redis is away or restarting: the next tick tries again; nothing is trimmed meanwhile.
                    PubSubLog.TrimFailed(log, e, stream);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
            }
        }

        _stop.Dispose();
    }
}
