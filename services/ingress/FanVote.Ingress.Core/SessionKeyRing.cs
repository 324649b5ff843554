using System.Security.Cryptography;
using System.Text;

namespace FanVote.Ingress.Core;

/// <summary>
/// The token keys as configured (FANVOTE_TOKEN_KEYS: "kid:base64;kid2:base64", the first signs, all verify), shared
/// by every service that checks fans' tokens locally (ingress issues them, rewards reads them). Without
/// configuration every service derives the same development key, so a local run works with nothing set.
/// </summary>
public static class SessionKeyRing
{
    private const string DevSecret = "fanvote-development-only-secret-do-not-use-in-production";

    public static IReadOnlyList<(string Kid, byte[] Key)> Parse(string? configured, out bool development)
    {
        var keys = new List<(string, byte[])>();
        foreach (var part in (configured ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split(':', 2);
            if (kv.Length != 2)
            {
                throw new FormatException("FANVOTE_TOKEN_KEYS must look like 'kid:base64key;kid2:base64key'");
            }

            keys.Add((kv[0], Convert.FromBase64String(kv[1])));
        }

        development = keys.Count == 0;
        if (development)
        {
            keys.Add(("dev", DevelopmentKey("token")));
        }

        return keys;
    }

    /// <summary>The built-in development key for <paramref name="purpose"/> (never for production).</summary>
    public static byte[] DevelopmentKey(string purpose) => SHA256.HashData(Encoding.UTF8.GetBytes($"{DevSecret}\n{purpose}"));
}
