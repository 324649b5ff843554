using System.Globalization;
using FanVote.Ingress.Core;
using FanVote.Security;
using StackExchange.Redis;

namespace FanVote.Ingress.Adapters;

/// <summary>Why a consent change was not stored.</summary>
public enum ConsentWrite
{
    Stored,

    /// <summary>The account already has another birth year (it is given once).</summary>
    BirthYearDiffers,
}

/// <summary>
/// Consent rates for operators over the last days: accounts that signed in or changed their consent, and how many of
/// them had each purpose in effect and were in each age band (HyperLogLog estimates: exact for small numbers, within
/// about 1 % for large ones).
/// </summary>
public sealed record ConsentCounts(int Days, long Accounts, IReadOnlyDictionary<Purposes, long> Granted, IReadOnlyDictionary<AgeBand, long> Ages);

/// <summary>
/// Fans' consent in ingress's Redis, kept as long as the account (a year past its last sign-in, like its creation
/// time; an erasure removes it sooner): <c>ingress:acct:&lt;id&gt;:consent</c> (a hash: each purpose's latest choice
/// "given|version|unix time", the birth year, the guardian's state and a keyed hash of their contact) and
/// <c>...:consent-log</c> (the last 200 changes, newest first), changed together by one script call. Rates come from one
/// HyperLogLog per day and purpose (<c>ingress:consent:day:&lt;yyyymmdd&gt;:&lt;what&gt;</c>, 40 days): bounded memory
/// whatever the audience, no count that drifts when records expire.
/// </summary>
public sealed class RedisConsent(IConnectionMultiplexer redis)
{
    public const int HistoryKept = 200;

    /// <summary>How many days of rates are kept.</summary>
    public const int DaysKept = 40;

    // KEYS: record, history. ARGV: now, source, birth year ("" = none given), guardian state ("" = unchanged),
    // guardian contact hash, time to live in seconds, then (purpose, given 0/1, version) triples. Returns 'ok', or
    // 'birth-year' when the record holds another year (then nothing is written).
    private static readonly string ApplyScript = $$"""
        local rec, log = KEYS[1], KEYS[2]
        local now, source, by, guardian, gto, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
        if by ~= '' then
          local old = redis.call('HGET', rec, 'birthYear')
          if old and old ~= by then return 'birth-year' end
          if not old then
            redis.call('HSET', rec, 'birthYear', by)
            redis.call('LPUSH', log, now .. '|' .. source .. '|birth-year|1|' .. by)
          end
        end
        if guardian ~= '' then
          redis.call('HSET', rec, 'guardian', guardian .. '|' .. now .. '|' .. gto)
          redis.call('LPUSH', log, now .. '|' .. source .. '|guardian-' .. guardian .. '|1|')
        end
        for i = 7, #ARGV, 3 do
          local p, g, v = ARGV[i], ARGV[i + 1], ARGV[i + 2]
          local old = redis.call('HGET', rec, 'p:' .. p)
          local changed = true
          if old then
            local og, ov = string.match(old, '^(%d)|([^|]*)|')
            if og == g and ov == v then changed = false end
          end
          if changed then
            redis.call('HSET', rec, 'p:' .. p, g .. '|' .. v .. '|' .. now)
            redis.call('LPUSH', log, now .. '|' .. source .. '|' .. p .. '|' .. g .. '|' .. v)
          end
        end
        redis.call('LTRIM', log, 0, {{HistoryKept - 1}})
        redis.call('EXPIRE', rec, ttl)
        redis.call('EXPIRE', log, ttl)
        return 'ok'
        """;

    /// <summary>
    /// Records <paramref name="choices"/> (a choice equal to the stored one is not a change), the birth year if the
    /// record has none yet, and the guardian's state if given; creates the record on first use.
    /// </summary>
    public async Task<ConsentWrite> ApplyAsync(string accountId, string source, IReadOnlyList<PurposeChoice> choices, DateTimeOffset now,
        int? birthYear = null, GuardianState? guardian = null, string guardianContactHash = "")
    {
        ArgumentNullException.ThrowIfNull(choices);
        var args = new List<RedisValue>
        {
            now.ToUnixTimeSeconds(), source, birthYear?.ToString(CultureInfo.InvariantCulture) ?? "",
            guardian is { } g ? g.ToString().ToLowerInvariant() : "", guardianContactHash, (long)RedisAccounts.AccountKeptFor.TotalSeconds,
        };
        foreach (var c in choices)
        {
            args.Add(PurposeNames.Name(c.Purpose));
            args.Add(c.Granted ? 1 : 0);
            args.Add(c.Version);
        }

        var r = (string?)await redis.GetDatabase().ScriptEvaluateAsync(ApplyScript, [RecordKey(accountId), HistoryKey(accountId)], [.. args]);
        return r == "birth-year" ? ConsentWrite.BirthYearDiffers : ConsentWrite.Stored;
    }

    /// <summary>The fan's record (empty when they never gave or withdrew anything).</summary>
    public async Task<ConsentRecord> ReadAsync(string accountId)
    {
        var fields = await redis.GetDatabase().HashGetAllAsync(RecordKey(accountId));
        if (fields.Length == 0)
        {
            return ConsentRecord.Empty;
        }

        var choices = new List<PurposeChoice>();
        var at = new Dictionary<Purposes, DateTimeOffset>();
        int? birthYear = null;
        var guardian = GuardianState.None;
        DateTimeOffset? guardianAt = null;
        var guardianContact = "";
        foreach (var f in fields)
        {
            var name = (string)f.Name!;
            var parts = ((string)f.Value!).Split('|');
            if (name.StartsWith("p:", StringComparison.Ordinal) && PurposeNames.TryParse(name[2..], out var p) && parts.Length == 3)
            {
                choices.Add(new PurposeChoice(p, parts[0] == "1", parts[1]));
                at[p] = FromUnix(parts[2]);
            }
            else if (name == "birthYear" && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var y))
            {
                birthYear = y;
            }
            else if (name == "guardian" && parts.Length == 3 && Enum.TryParse<GuardianState>(parts[0], ignoreCase: true, out var gs))
            {
                guardian = gs;
                guardianAt = FromUnix(parts[1]);
                guardianContact = parts[2];
            }
        }

        return new ConsentRecord(choices, at, birthYear, guardian, guardianAt, guardianContact);
    }

    /// <summary>The last <paramref name="count"/> changes, newest first.</summary>
    public async Task<IReadOnlyList<ConsentChange>> HistoryAsync(string accountId, int count = 50)
    {
        var rows = await redis.GetDatabase().ListRangeAsync(HistoryKey(accountId), 0, count - 1);
        return [.. rows.Select(r => ((string)r!).Split('|')).Where(p => p.Length == 5)
            .Select(p => new ConsentChange(FromUnix(p[0]), p[1], p[2], p[3] == "1", p[4]))];
    }

    /// <summary>
    /// At a sign-in or a change: the record lives on with the account, and the account counts among today's, with the
    /// purposes in effect and its age band.
    /// </summary>
    public async Task NoteActiveAsync(string accountId, FanConsent standing, DateTimeOffset now)
    {
        var batch = redis.GetDatabase().CreateBatch();
        var tasks = new List<Task>
        {
            batch.KeyExpireAsync(RecordKey(accountId), RedisAccounts.AccountKeptFor),
            batch.KeyExpireAsync(HistoryKey(accountId), RedisAccounts.AccountKeptFor),
        };
        foreach (var what in new[] { "accounts", "age:" + PurposeNames.Name(standing.Age) }.Concat(PurposeNames.All.Where(standing.Has).Select(PurposeNames.Name)))
        {
            var key = DayKey(now, what);
            tasks.Add(batch.HyperLogLogAddAsync(key, accountId));
            tasks.Add(batch.KeyExpireAsync(key, TimeSpan.FromDays(DaysKept)));
        }

        batch.Execute();
        await Task.WhenAll(tasks);
    }

    /// <summary>Rates over the <paramref name="days"/> days up to <paramref name="now"/> (each account once, whatever it did).</summary>
    public async Task<ConsentCounts> CountsAsync(DateTimeOffset now, int days)
    {
        var db = redis.GetDatabase();
        RedisKey[] Keys(string what) => [.. Enumerable.Range(0, days).Select(d => DayKey(now.AddDays(-d), what))];
        var granted = new Dictionary<Purposes, long>();
        foreach (var p in PurposeNames.All)
        {
            granted[p] = await db.HyperLogLogLengthAsync(Keys(PurposeNames.Name(p)));
        }

        var ages = new Dictionary<AgeBand, long>();
        foreach (var band in Enum.GetValues<AgeBand>())
        {
            ages[band] = await db.HyperLogLogLengthAsync(Keys("age:" + PurposeNames.Name(band)));
        }

        return new ConsentCounts(days, await db.HyperLogLogLengthAsync(Keys("accounts")), granted, ages);
    }

    private static RedisKey DayKey(DateTimeOffset day, string what) => $"ingress:consent:day:{day.UtcDateTime:yyyyMMdd}:{what}";

    private static DateTimeOffset FromUnix(string s) =>
        DateTimeOffset.FromUnixTimeSeconds(long.TryParse(s, CultureInfo.InvariantCulture, out var t) ? t : 0);

    public static string RecordKey(string accountId) => $"ingress:acct:{accountId}:consent";

    public static string HistoryKey(string accountId) => $"ingress:acct:{accountId}:consent-log";
}
