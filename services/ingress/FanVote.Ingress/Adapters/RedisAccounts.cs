using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FanVote.Ingress.Adapters;

public enum OtpCheck
{
    Valid,
    Wrong,
    ExpiredOrUnknown,
    TooManyAttempts,
}

/// <summary>Why a sign-in request is turned away before any work (429 with Retry-After).</summary>
public sealed record SignInLimited(string Reason, TimeSpan RetryAfter);

/// <summary>
/// Accounts, one-time passcodes and the sign-in limits, in ingress's Redis. A passcode is stored only as an HMAC
/// (under a key derived from the account key), lives 5 minutes and allows 5 attempts. Sign-ins are limited in fixed
/// windows per client address and per network (IP prefix), passcodes also per contact per day, with a resend back-off
/// that doubles (30 s, 1 min, 2 min, ... 1 h): a client cannot mint guest accounts, pump SMS or try codes at will.
/// Addresses appear in key names only as keyed hashes, contacts likewise.
/// Every key has a time to live: an account's creation time lives a year past its last sign-in.
/// </summary>
public sealed class RedisAccounts(IConnectionMultiplexer redis, TimeProvider time, IngressKeys keys, IOptions<IngressOptions> options)
{
    public static readonly TimeSpan OtpLifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan OtpFirstResend = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan AccountKeptFor = TimeSpan.FromDays(365);
    public const int OtpAttempts = 5;

    // KEYS: counters. ARGV: per counter, its limit and its window in seconds. Every counter is raised (an attempt
    // counts whether or not it is let through); returns 0 when all are within their limits, else the 1-based index
    // of the first one over, and its remaining time to live.
    private const string CountScript = """
        local over, ttl = 0, 0
        for i = 1, #KEYS do
          local n = redis.call('INCR', KEYS[i])
          if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[i * 2]) end
          if over == 0 and n > tonumber(ARGV[i * 2 - 1]) then
            over, ttl = i, redis.call('TTL', KEYS[i])
          end
        end
        return {over, ttl}
        """;

    /// <summary>When the account was first seen (set once; its time to live renewed at each sign-in).</summary>
    public async Task<DateTimeOffset> CreatedAtAsync(string accountId)
    {
        var db = redis.GetDatabase();
        var key = $"ingress:acct:{accountId}:created";
        await db.StringSetAsync(key, time.GetUtcNow().ToUnixTimeSeconds(), AccountKeptFor, When.NotExists);
        var created = await db.StringGetAsync(key);
        await db.KeyExpireAsync(key, AccountKeptFor);
        return DateTimeOffset.FromUnixTimeSeconds((long)created);
    }

    /// <summary>Counts a guest sign-in from <paramref name="ip"/> in network <paramref name="prefix"/>; null when allowed.</summary>
    public Task<SignInLimited?> GuestSignInAsync(string ip, string prefix)
    {
        var o = options.Value.SignIn;
        return CountAsync(
            ("guest sign-ins from this address", $"ingress:lim:guest:ip:{Address(ip)}:m", o.GuestPerIpPerMinute, 60),
            ("guest sign-ins from this address today", $"ingress:lim:guest:ip:{Address(ip)}:d", o.GuestPerIpPerDay, 86_400),
            ("guest sign-ins from this network", $"ingress:lim:guest:net:{prefix}:m", o.GuestPerPrefixPerMinute, 60));
    }

    /// <summary>Counts a passcode request; null when allowed.</summary>
    public Task<SignInLimited?> OtpRequestAsync(string contact, string ip, string prefix)
    {
        var o = options.Value.SignIn;
        return CountAsync(
            ("passcode requests from this address", $"ingress:lim:otp:ip:{Address(ip)}:m", o.OtpPerIpPerMinute, 60),
            ("passcode requests from this address today", $"ingress:lim:otp:ip:{Address(ip)}:d", o.OtpPerIpPerDay, 86_400),
            ("passcode requests from this network", $"ingress:lim:otp:net:{prefix}:m", o.OtpPerPrefixPerMinute, 60),
            ("passcodes for this phone or e-mail today", $"ingress:lim:otp:to:{Hash(contact)}:d", o.OtpPerContactPerDay, 86_400));
    }

    /// <summary>Counts a passcode check (right or wrong) from <paramref name="ip"/>; null when allowed.</summary>
    public Task<SignInLimited?> OtpVerifyAsync(string ip, string prefix)
    {
        var o = options.Value.SignIn;
        return CountAsync(
            ("passcode checks from this address", $"ingress:lim:otpv:ip:{Address(ip)}:m", o.OtpChecksPerIpPerMinute, 60),
            ("passcode checks from this network", $"ingress:lim:otpv:net:{prefix}:m", o.OtpChecksPerPrefixPerMinute, 60));
    }

    /// <summary>
    /// A new code, or how long to wait: the first resend is allowed after 30 s, each later one after twice the wait
    /// before (at most an hour); the back-off forgets a contact a day after its last request.
    /// </summary>
    public async Task<(string? Code, TimeSpan Wait)> IssueOtpAsync(string contact)
    {
        var db = redis.GetDatabase();
        var id = Hash(contact);
        var sentKey = $"ingress:otp-sent:{id}";
        if (await db.KeyTimeToLiveAsync(sentKey) is { } wait && wait > TimeSpan.Zero)
        {
            return (null, wait);
        }

        var backoffKey = $"ingress:otp-backoff:{id}";
        // One transaction: a counter is never left without its time to live.
        var backoff = db.CreateTransaction();
        var rounds = backoff.StringIncrementAsync(backoffKey);
        _ = backoff.KeyExpireAsync(backoffKey, TimeSpan.FromDays(1));
        await backoff.ExecuteAsync();
        var round = await rounds;
        var next = TimeSpan.FromSeconds(Math.Min(3600, OtpFirstResend.TotalSeconds * Math.Pow(2, Math.Min(20, round - 1))));
        if (!await db.StringSetAsync(sentKey, 1, next, When.NotExists))
        {
            return (null, await db.KeyTimeToLiveAsync(sentKey) ?? next);
        }

        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
        var key = $"ingress:otp:{id}";
        var store = db.CreateTransaction();
        _ = store.HashSetAsync(key, [new("code", Hash(code)), new("attempts", 0)]);
        _ = store.KeyExpireAsync(key, OtpLifetime);
        await store.ExecuteAsync();
        return (code, TimeSpan.Zero);
    }

    public async Task<OtpCheck> CheckOtpAsync(string contact, string code)
    {
        var db = redis.GetDatabase();
        var key = $"ingress:otp:{Hash(contact)}";
        var attempts = await db.HashIncrementAsync(key, "attempts");
        var stored = await db.HashGetAsync(key, "code");
        if (stored.IsNull)
        {
            await db.KeyDeleteAsync(key);
            return OtpCheck.ExpiredOrUnknown;
        }

        if (attempts > OtpAttempts)
        {
            await db.KeyDeleteAsync(key);
            return OtpCheck.TooManyAttempts;
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes((string)stored!), Encoding.ASCII.GetBytes(Hash(code))))
        {
            return OtpCheck.Wrong;
        }

        await db.KeyDeleteAsync([key, $"ingress:otp-backoff:{Hash(contact)}"]);
        return OtpCheck.Valid;
    }

    private async Task<SignInLimited?> CountAsync(params (string What, string Key, int Limit, int Seconds)[] counters)
    {
        var keyArgs = counters.Select(c => (RedisKey)c.Key).ToArray();
        var args = counters.SelectMany(c => new RedisValue[] { c.Limit, c.Seconds }).ToArray();
        var r = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(CountScript, keyArgs, args))!;
        var over = (int)r[0];
        return over == 0 ? null : new SignInLimited($"Too many {counters[over - 1].What}", TimeSpan.FromSeconds(Math.Max(1, (long)r[1])));
    }

    /// <summary>A contact as kept in a record (a guardian's): keyed, never the phone number or address itself.</summary>
    public string Pseudonym(string contact) => Hash("contact\n" + contact)[..32];

    /// <summary>A client address in a key name: keyed, so Redis (and its append-only file) never holds the address itself.</summary>
    private string Address(string ip) => Hash("address\n" + ip)[..32];

    private string Hash(string s) => Convert.ToHexStringLower(HMACSHA256.HashData(keys.OtpKey, Encoding.UTF8.GetBytes("otp\n" + s)));
}
