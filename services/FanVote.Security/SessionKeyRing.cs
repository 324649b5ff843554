namespace FanVote.Security;

/// <summary>
/// The token keys as configured (FANVOTE_TOKEN_KEYS: "kid:base64;kid2:base64", the first signs, all verify), shared
/// by every service that checks fans' tokens locally (ingress issues them, rewards reads them). Each key is at least
/// 32 bytes and differs from every other key of the process. Without configuration, only where development keys are
/// allowed, every service derives the same public development key (kid "dev").
/// </summary>
public static class SessionKeyRing
{
    public const string Setting = "FANVOTE_TOKEN_KEYS";

    public static IReadOnlyList<(string Kid, byte[] Key)> Load(string? configured, KeySet keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var ring = new List<(string, byte[])>();
        foreach (var part in (configured ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split(':', 2);
            if (kv.Length != 2 || kv[0].Length == 0 || kv[0].Contains('.', StringComparison.Ordinal))
            {
                throw new KeyConfigurationException($"{Setting} must look like 'kid:base64key;kid2:base64key' (a kid without '.'); the first key signs, all verify.");
            }

            var key = KeySet.Decode($"{Setting} (kid {kv[0]})", kv[1]);
            keys.Remember($"{Setting} (kid {kv[0]})", key);
            ring.Add((kv[0], key));
        }

        if (ring.Count == 0)
        {
            ring.Add(("dev", keys.Symmetric(Setting, null, "token")));
        }

        return ring;
    }
}
