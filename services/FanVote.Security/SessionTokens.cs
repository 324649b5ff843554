using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FanVote.Security;

/// <summary>How the fan signed in.</summary>
public enum SessionKind
{
    Guest,
    Otp,
}

/// <summary>
/// What a valid token says about its bearer. <paramref name="SessionStartedAt"/> is when the fan signed in: a refreshed
/// token keeps it, so a session cannot be renewed for ever (ingress refuses a refresh past its maximum session age).
/// <paramref name="Consent"/>: the purposes the fan has given (under their current versions) and the fan's age band, as
/// ingress found them when it issued the token.
/// </summary>
public sealed record SessionClaims(string AccountId, string DeviceId, SessionKind Kind, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, DateTimeOffset AccountCreatedAt, DateTimeOffset SessionStartedAt, FanConsent Consent);

/// <summary>Why a token was refused; each maps to a 401 with a reason the client can act on.</summary>
public enum TokenError
{
    None,
    Missing,
    Malformed,
    UnknownKey,
    BadSignature,
    Expired,
}

/// <summary>
/// Signed session tokens checked locally (no database hit per vote): `v1.&lt;kid&gt;.&lt;payload&gt;.&lt;sig&gt;`,
/// base64url JSON payload, HMAC-SHA256 over `v1.kid.payload`. Several keys can be active at once (the first
/// signs, all verify), so keys rotate without logging anybody out.
/// </summary>
public sealed class SessionTokens : IDisposable
{
    private const string Version = "v1";
    private readonly (string Kid, KeyedHmac Mac)[] _keys;
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;
    // Clocks of the instances that issue and check tokens agree to within this (NTP): a token is not valid before it
    // was issued, nor after it expired, give or take this much.
    private readonly TimeSpan _skew = TimeSpan.FromSeconds(5);

    public SessionTokens(IReadOnlyList<(string Kid, byte[] Key)> keys, TimeSpan lifetime, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0 || keys.Any(k => k.Key.Length < 32 || string.IsNullOrEmpty(k.Kid) || k.Kid.Contains('.', StringComparison.Ordinal)))
        {
            throw new ArgumentException("at least one signing key of 32+ bytes with a non-empty kid without '.' is required", nameof(keys));
        }

        _keys = [.. keys.Select(k => (k.Kid, new KeyedHmac(k.Key)))];
        _lifetime = lifetime;
        _time = time;
    }

    /// <summary>How long a token is valid; fans renew it before then (POST /v1/sessions/refresh).</summary>
    public TimeSpan Lifetime => _lifetime;

    public string Issue(string accountId, string deviceId, SessionKind kind, DateTimeOffset accountCreatedAt, FanConsent consent) =>
        IssueWithExpiry(accountId, deviceId, kind, accountCreatedAt, consent).Token;

    /// <summary>
    /// A new token and when it expires. <paramref name="consent"/>: what the fan has given and their age band (ingress
    /// reads it from the fan's stored consent). <paramref name="sessionStartedAt"/>: when the session began (a refresh
    /// passes the old token's); null for a new sign-in (now).
    /// </summary>
    public (string Token, DateTimeOffset ExpiresAt) IssueWithExpiry(string accountId, string deviceId, SessionKind kind, DateTimeOffset accountCreatedAt, FanConsent consent, DateTimeOffset? sessionStartedAt = null)
    {
        var now = _time.GetUtcNow();
        var payload = new Payload(accountId, deviceId, kind == SessionKind.Otp ? "otp" : "guest", now.ToUnixTimeSeconds(), now.Add(_lifetime).ToUnixTimeSeconds(), accountCreatedAt.ToUnixTimeSeconds(),
            (sessionStartedAt ?? now).ToUnixTimeSeconds(), (int)consent.Granted, (int)consent.Age);
        var body = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(payload, TokenJson.Default.Payload));
        var (kid, mac) = _keys[0];
        var signed = $"{Version}.{kid}.{body}";
        Span<byte> sig = stackalloc byte[HMACSHA256.HashSizeInBytes];
        mac.Compute(Encoding.ASCII.GetBytes(signed), sig);
        return ($"{signed}.{Base64Url.EncodeToString(sig)}", DateTimeOffset.FromUnixTimeSeconds(payload.Exp));
    }

    public TokenError Validate(string? token, out SessionClaims? claims)
    {
        claims = null;
        if (string.IsNullOrWhiteSpace(token))
        {
            return TokenError.Missing;
        }

        // v1.<kid>.<payload>.<sig>, checked on spans: this runs on every vote.
        var t = token.AsSpan();
        var d1 = t.IndexOf('.');
        var d2 = d1 < 0 ? -1 : t[(d1 + 1)..].IndexOf('.') + d1 + 1;
        var d3 = d2 <= d1 ? -1 : t[(d2 + 1)..].IndexOf('.') + d2 + 1;
        if (d1 < 0 || d2 <= d1 || d3 <= d2 || t[(d3 + 1)..].Contains('.') || !t[..d1].SequenceEqual(Version) || t.Length > 4096)
        {
            return TokenError.Malformed;
        }

        var kid = t[(d1 + 1)..d2];
        KeyedHmac? key = null;
        foreach (var k in _keys)
        {
            if (kid.SequenceEqual(k.Kid))
            {
                key = k.Mac;
                break;
            }
        }

        if (key is null)
        {
            return TokenError.UnknownKey;
        }

        Span<byte> sig = stackalloc byte[64];
        byte[] body;
        try
        {
            if (!Base64Url.TryDecodeFromChars(t[(d3 + 1)..], sig, out var sigLength))
            {
                return TokenError.Malformed;
            }

            sig = sig[..sigLength];
            body = Base64Url.DecodeFromChars(t[(d2 + 1)..d3]);
        }
        catch (FormatException)
        {
            return TokenError.Malformed;
        }

        var signed = t[..d3];
        Span<byte> ascii = stackalloc byte[signed.Length];
        if (Encoding.ASCII.GetBytes(signed, ascii) != signed.Length)
        {
            return TokenError.Malformed;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        key.Compute(ascii, expected);
        if (!CryptographicOperations.FixedTimeEquals(sig, expected))
        {
            return TokenError.BadSignature;
        }

        Payload? p;
        try
        {
            p = JsonSerializer.Deserialize(body, TokenJson.Default.Payload);
        }
        catch (JsonException)
        {
            return TokenError.Malformed;
        }

        if (p is null || string.IsNullOrEmpty(p.Sub) || string.IsNullOrEmpty(p.Dev))
        {
            return TokenError.Malformed;
        }

        var expires = DateTimeOffset.FromUnixTimeSeconds(p.Exp);
        var now = _time.GetUtcNow();
        if (now > expires + _skew)
        {
            return TokenError.Expired;
        }

        if (DateTimeOffset.FromUnixTimeSeconds(p.Iat) > now + _skew || p.Iat > p.Exp)
        {
            return TokenError.Malformed; // issued in the future: not a token this service made
        }

        if (p.Cns < 0 || p.Cns > (int)(Purposes.Counting | Purposes.FraudPrevention | Purposes.Rewards | Purposes.Marketing) || p.Age is < 0 or > (int)AgeBand.Adult)
        {
            return TokenError.Malformed;
        }

        // A token made before sessions carried their start (no "sst") counts from when it was issued; one made before
        // tokens carried consent ("cns", "age") carries none: that fan gives it (PUT /v1/me/consent) or signs in again.
        claims = new SessionClaims(p.Sub, p.Dev, p.Kind == "otp" ? SessionKind.Otp : SessionKind.Guest,
            DateTimeOffset.FromUnixTimeSeconds(p.Iat), expires, DateTimeOffset.FromUnixTimeSeconds(p.Acr), DateTimeOffset.FromUnixTimeSeconds(p.Sst > 0 ? p.Sst : p.Iat),
            new FanConsent((Purposes)p.Cns, (AgeBand)p.Age));
        return TokenError.None;
    }

    public void Dispose()
    {
        foreach (var (_, mac) in _keys)
        {
            mac.Dispose();
        }
    }

    /// <summary>The sentence a fan's client can act on for each refusal.</summary>
    public static string Explain(TokenError error) => error switch
    {
        TokenError.Missing => "Sign in first: send the token from /v1/sessions/guest or /v1/sessions/otp/verify as 'Authorization: Bearer <token>'.",
        TokenError.Expired => "Your session has expired. Sign in again to get a new token.",
        TokenError.UnknownKey => "Your session was signed with a key this server no longer accepts. Sign in again.",
        _ => "The session token is not valid. Sign in again to get a new token.",
    };

    /// <summary>
    /// The token's JSON: subject, device, kind, issued, expires, account created, session started (0 when absent), the
    /// purposes given (bits of <see cref="Purposes"/>) and the age band.
    /// </summary>
    internal sealed record Payload(string Sub, string Dev, string Kind, long Iat, long Exp, long Acr, long Sst = 0, int Cns = 0, int Age = 0);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SessionTokens.Payload))]
internal sealed partial class TokenJson : JsonSerializerContext;
