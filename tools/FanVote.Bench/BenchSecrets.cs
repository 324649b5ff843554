using System.Security.Cryptography;
using FanVote.Security;

namespace FanVote.Bench;

/// <summary>
/// The secrets of a benchmark's own small deployment (the benchmarks that start their apps and sidecars themselves):
/// random per run, the same kinds `./fanvote up` makes. One app token serves every app here (each sidecar sends it to
/// its app, each app checks it).
/// </summary>
public static class BenchSecrets
{
    public static string DaprApiToken { get; } = Token();

    public static string AppToken { get; } = Token();

    public static byte[] VoteKey { get; } = RandomNumberGenerator.GetBytes(32);

    public static VoteSeal Seal { get; } = new(VoteKey);

    private static readonly Lazy<string> AuditPublic = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
    });

    /// <summary><paramref name="env"/> plus the tokens and keys every app and sidecar of a benchmark gets.</summary>
    public static Dictionary<string, string> With(Dictionary<string, string> env) => new(env)
    {
        ["DAPR_API_TOKEN"] = DaprApiToken,
        ["APP_API_TOKEN"] = AppToken,
        ["FANVOTE_VOTE_KEY"] = Convert.ToBase64String(VoteKey),
        ["FANVOTE_AUDIT_PUBLIC_KEY"] = AuditPublic.Value,
    };

    private static string Token() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
