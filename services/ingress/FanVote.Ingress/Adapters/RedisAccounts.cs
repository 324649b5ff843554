using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace FanVote.Ingress.Adapters;

/// <summary>Sends a one-time passcode to a phone or e-mail address.</summary>
public interface IOtpNotifier
{
    Task SendAsync(string contact, string code, CancellationToken cancellationToken);
}

/// <summary>Development notifier: writes the code to the log.</summary>
public sealed class LogOtpNotifier(ILogger<LogOtpNotifier> log) : IOtpNotifier
{
    public Task SendAsync(string contact, string code, CancellationToken cancellationToken)
    {
        IngressLog.OtpCode(log, contact, code);
        return Task.CompletedTask;
    }
}

public enum OtpCheck
{
    Valid,
    Wrong,
    ExpiredOrUnknown,
    TooManyAttempts,
}

/// <summary>
/// Account creation times and one-time passcodes in Redis. A code is stored only as an HMAC, lives 5 minutes,
/// allows 5 attempts, and a new one can be requested at most every 30 s per contact.
/// </summary>
public sealed class RedisAccounts(IConnectionMultiplexer redis, TimeProvider time, IngressKeys keys)
{
    public static readonly TimeSpan OtpLifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan OtpResendAfter = TimeSpan.FromSeconds(30);
    public const int OtpAttempts = 5;

    /// <summary>When the account was first seen (set once).</summary>
    public async Task<DateTimeOffset> CreatedAtAsync(string accountId)
    {
        var db = redis.GetDatabase();
        var key = $"ingress:acct:{accountId}:created";
        await db.StringSetAsync(key, time.GetUtcNow().ToUnixTimeSeconds(), when: When.NotExists);
        return DateTimeOffset.FromUnixTimeSeconds((long)await db.StringGetAsync(key));
    }

    /// <summary>A new code, or null when one was sent less than <see cref="OtpResendAfter"/> ago.</summary>
    public async Task<string?> IssueOtpAsync(string contact)
    {
        var db = redis.GetDatabase();
        if (!await db.StringSetAsync($"ingress:otp-sent:{Hash(contact)}", 1, OtpResendAfter, When.NotExists))
        {
            return null;
        }

        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        var key = $"ingress:otp:{Hash(contact)}";
        await db.HashSetAsync(key, [new("code", Hash(code)), new("attempts", 0)]);
        await db.KeyExpireAsync(key, OtpLifetime);
        return code;
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

        await db.KeyDeleteAsync(key);
        return OtpCheck.Valid;
    }

    private string Hash(string s) => Convert.ToHexStringLower(HMACSHA256.HashData(keys.Secret, Encoding.UTF8.GetBytes("otp\n" + s)));
}
