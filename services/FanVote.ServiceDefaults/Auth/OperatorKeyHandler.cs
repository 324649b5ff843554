using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FanVote.ServiceDefaults.Auth;

/// <summary>
/// An operator: one of the operators' keys in <c>X-Operator-Key</c>; the principal is named after the key's operator.
/// The given and every expected key are HMACed under a random per-process key and the MACs compared in constant time,
/// all of them every time, so neither a key's content nor its length nor which operator's key it was leaks.
/// Wrong keys are throttled per client address (<see cref="OperatorKeyThrottle"/>) and logged without the key.
/// </summary>
public sealed class OperatorKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, OperatorKey key, OperatorKeyThrottle throttle, TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Setting = "FANVOTE_OPERATOR_KEY";
    public const string NamedSetting = "FANVOTE_OPERATOR_KEYS";
    public const string Header = "X-Operator-Key";
    private const string ThrottledItem = "fanvote.operator-throttled";
    private static readonly byte[] CompareKey = RandomNumberGenerator.GetBytes(32);
    private static readonly ConditionalWeakTable<OperatorKey, (string Name, byte[] Mac, ClaimsPrincipal Principal)[]> Expected = [];

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var client = Context.Connection.RemoteIpAddress?.ToString() ?? "";
        var now = time.GetUtcNow();
        if (throttle.IsThrottled(client, now, out var retryAfter))
        {
            Context.Items[ThrottledItem] = retryAfter;
            return Task.FromResult(AuthenticateResult.Fail("too many wrong operator keys"));
        }

        var given = Request.Headers[Header].ToString();
        var expected = Expected.GetValue(key, k => [.. k.Keys.Select(e => (e.Name, HMACSHA256.HashData(CompareKey, Encoding.UTF8.GetBytes(e.Value)),
            new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Role, "operator"), new Claim(ClaimTypes.Name, e.Name)], FanVoteAuth.OperatorScheme))))]);
        if (given.Length > 0)
        {
            var mac = HMACSHA256.HashData(CompareKey, Encoding.UTF8.GetBytes(given));
            ClaimsPrincipal? matched = null;
            foreach (var e in expected)
            {
                // Every key is compared, so the time does not say which one matched.
                if (CryptographicOperations.FixedTimeEquals(mac, e.Mac))
                {
                    matched = e.Principal;
                }
            }

            if (matched is not null)
            {
                return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(matched, FanVoteAuth.OperatorScheme)));
            }
        }

        throttle.Failed(client, now);
        ServiceLog.OperatorRefused(Logger, given.Length == 0 ? "no X-Operator-Key" : "wrong X-Operator-Key", new RedactedIp(client));
        return Task.FromResult(given.Length == 0 ? AuthenticateResult.NoResult() : AuthenticateResult.Fail("wrong operator key"));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items.TryGetValue(ThrottledItem, out var r) && r is TimeSpan retryAfter)
        {
            Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.WriteAsync(Context, StatusCodes.Status429TooManyRequests, "Too many wrong operator keys",
                $"Too many requests with a wrong operator key came from this address; wait {Math.Ceiling(retryAfter.TotalSeconds)} s and send the right key.");
        }

        return Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Operator key required",
            "Send the operator key in the X-Operator-Key header (./fanvote up prints where the local one is).");
    }
}

/// <summary>Counts wrong operator keys per client address: after <see cref="MaxFailures"/> in a minute, that address is refused for the rest of it.</summary>
public sealed class OperatorKeyThrottle
{
    public const int MaxFailures = 10;
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, (DateTimeOffset Start, int Count)> _failures = new(StringComparer.Ordinal);

    public bool IsThrottled(string client, DateTimeOffset now, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (!_failures.TryGetValue(client, out var f) || now - f.Start >= Period || f.Count < MaxFailures)
        {
            return false;
        }

        retryAfter = f.Start + Period - now;
        return true;
    }

    public void Failed(string client, DateTimeOffset now)
    {
        if (_failures.Count > 100_000)
        {
            foreach (var (k, v) in _failures)
            {
                if (now - v.Start >= Period)
                {
                    _failures.TryRemove(k, out _);
                }
            }
        }

        _failures.AddOrUpdate(client, _ => (now, 1), (_, f) => now - f.Start >= Period ? (now, 1) : (f.Start, f.Count + 1));
    }
}
