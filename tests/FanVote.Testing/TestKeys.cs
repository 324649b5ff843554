using System.Security.Cryptography;

namespace FanVote.Testing;

/// <summary>
/// The secrets a FanVote deployment needs, made at random once per test process, the way `./fanvote up` makes them
/// (tools/FanVote.Launcher/Secrets.cs): the sidecars' API token, one app token per app id, one key per purpose, the
/// auditor's key pair, the operator key and the development challenge answer. <see cref="ServiceHost"/> gives them to
/// every app and its sidecar; a test that plays a service (publishes votes, mints tokens, checks a signature) uses the
/// same values.
/// </summary>
public static class TestKeys
{
    private static readonly Lazy<(string Private, string Public)> Auditor = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (Convert.ToBase64String(key.ExportPkcs8PrivateKey()), Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()));
    });

    /// <summary>DAPR_API_TOKEN: every sidecar requires it, every app and test client sends it.</summary>
    public static string DaprApiToken { get; } = Token();

    public static string OperatorKey { get; } = Token();

    public static string ChallengeAnswer { get; } = Token();

    public static byte[] TokenKey { get; } = RandomNumberGenerator.GetBytes(32);

    public static byte[] ReceiptKey { get; } = RandomNumberGenerator.GetBytes(32);

    public static byte[] AccountKey { get; } = RandomNumberGenerator.GetBytes(32);

    public static byte[] VoteKey { get; } = RandomNumberGenerator.GetBytes(32);

    public static byte[] LedgerKey { get; } = RandomNumberGenerator.GetBytes(32);

    public static byte[] ActionLogKey { get; } = RandomNumberGenerator.GetBytes(32);

    public static byte[] PseudonymKey { get; } = RandomNumberGenerator.GetBytes(32);

    /// <summary>FANVOTE_TOKEN_KEYS as configured: kid "t1".</summary>
    public static string TokenKeys => "t1:" + Convert.ToBase64String(TokenKey);

    public static string AuditSigningKey => Auditor.Value.Private;

    public static string AuditPublicKey => Auditor.Value.Public;

    /// <summary>The app token of an app (what its sidecar sends as dapr-api-token), stable per app id in this process.</summary>
    public static string AppToken(string appId) => AppTokens.GetOrAdd(appId, _ => Token());

    /// <summary>Every key setting an app may read, as environment variables.</summary>
    public static Dictionary<string, string?> AppEnvironment(string appId) => new()
    {
        ["DAPR_API_TOKEN"] = DaprApiToken,
        ["APP_API_TOKEN"] = AppToken(appId),
        ["FANVOTE_OPERATOR_KEY"] = OperatorKey,
        ["FANVOTE_CHALLENGE_ANSWER"] = ChallengeAnswer,
        ["FANVOTE_TOKEN_KEYS"] = TokenKeys,
        ["FANVOTE_RECEIPT_KEY"] = Convert.ToBase64String(ReceiptKey),
        ["FANVOTE_ACCOUNT_KEY"] = Convert.ToBase64String(AccountKey),
        ["FANVOTE_VOTE_KEY"] = Convert.ToBase64String(VoteKey),
        ["FANVOTE_LEDGER_KEY"] = Convert.ToBase64String(LedgerKey),
        ["FANVOTE_ACTION_LOG_KEY"] = Convert.ToBase64String(ActionLogKey),
        ["FANVOTE_PSEUDONYM_KEY"] = Convert.ToBase64String(PseudonymKey),
        ["FANVOTE_AUDIT_SIGNING_KEY"] = AuditSigningKey,
        ["FANVOTE_AUDIT_PUBLIC_KEY"] = AuditPublicKey,
    };

    /// <summary>What a sidecar of <paramref name="appId"/> needs: the API token it requires and the app token it sends.</summary>
    public static Dictionary<string, string?> SidecarEnvironment(string appId) => new()
    {
        ["DAPR_API_TOKEN"] = DaprApiToken,
        ["APP_API_TOKEN"] = AppToken(appId),
    };

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> AppTokens = new(StringComparer.Ordinal);

    private static string Token() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
