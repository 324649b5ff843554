using System.Security.Cryptography;
using System.Text;

namespace FanVote.Security;

/// <summary>A key is missing, too short, malformed, or the same as another purpose's key.</summary>
public sealed class KeyConfigurationException(string message) : Exception(message);

/// <summary>
/// The symmetric keys one process loads, each for one purpose: given as base64 of at least
/// <see cref="MinimumBytes"/> bytes, and no two purposes sharing a key (a key that signs tokens must not also seal
/// votes: rotating one would change the other, and a leak of one would give both). Only where development keys are
/// allowed (the Development environment) may a key be missing: it is then derived from a constant that anyone can
/// read in the source, so it protects nothing, and <see cref="DevelopmentKeysUsed"/> names it for a warning.
/// </summary>
public sealed class KeySet(bool allowDevelopmentKeys)
{
    /// <summary>HMAC-SHA256 keys shorter than its output add nothing but weakness.</summary>
    public const int MinimumBytes = 32;

    private const string DevelopmentSecret = "fanvote-development-only-secret-do-not-use-in-production";
    private readonly List<(string Name, byte[] Key)> _loaded = [];
    private readonly List<string> _development = [];
    private readonly Lock _gate = new();

    public bool AllowDevelopmentKeys => allowDevelopmentKeys;

    /// <summary>Called with the setting's name whenever a development key stands in for a missing one (to warn in the log).</summary>
    public Action<string>? DevelopmentKeyUsed { get; set; }

    /// <summary>Names of the settings that fell back to a development key.</summary>
    public IReadOnlyList<string> DevelopmentKeysUsed => _development;

    /// <summary>The key <paramref name="name"/> (base64 in <paramref name="configured"/>), checked, or the development key for <paramref name="purpose"/>.</summary>
    public byte[] Symmetric(string name, string? configured, string purpose)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        byte[] key;
        if (string.IsNullOrWhiteSpace(configured))
        {
            if (!allowDevelopmentKeys)
            {
                throw new KeyConfigurationException(
                    $"{name} is not set. Outside Development every key must be configured: set {name} to base64 of {MinimumBytes} or more random bytes (e.g. `head -c 32 /dev/urandom | base64`), a different key for each purpose.");
            }

            key = DevelopmentKey(purpose);
            lock (_gate)
            {
                _development.Add(name);
            }

            DevelopmentKeyUsed?.Invoke(name);
        }
        else
        {
            key = Decode(name, configured);
        }

        Remember(name, key);
        return key;
    }

    /// <summary>Records a key loaded elsewhere (token keys, say), so it too must differ from every other.</summary>
    public void Remember(string name, byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            foreach (var (other, otherKey) in _loaded)
            {
                if (CryptographicOperations.FixedTimeEquals(otherKey, key))
                {
                    throw new KeyConfigurationException($"{name} and {other} hold the same key. Use a separate random key for each purpose.");
                }
            }

            _loaded.Add((name, (byte[])key.Clone()));
        }
    }

    /// <summary>Every key loaded so far, by setting, with its <see cref="Fingerprint"/> and whether it is a development key.</summary>
    public IReadOnlyList<(string Name, string Fingerprint, bool Development)> Fingerprints()
    {
        lock (_gate)
        {
            return [.. _loaded.Select(k => (k.Name, Fingerprint(k.Key), _development.Contains(k.Name)))];
        }
    }

    /// <summary>
    /// 16 hex digits of HMAC-SHA256 under <paramref name="key"/> of a fixed label: the same key always gives the same
    /// fingerprint, another key another one, and (keys being 32+ random bytes) it tells nothing about the key.
    /// </summary>
    public static string Fingerprint(byte[] key) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("fanvote-key-fingerprint-v1")).AsSpan(0, 8));

    /// <summary>Base64 of at least <see cref="MinimumBytes"/> bytes, or a <see cref="KeyConfigurationException"/> naming the setting.</summary>
    public static byte[] Decode(string name, string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new KeyConfigurationException($"{name} is not base64. Set it to base64 of {MinimumBytes} or more random bytes.");
        }

        return key.Length >= MinimumBytes
            ? key
            : throw new KeyConfigurationException($"{name} holds {key.Length} bytes; a key needs at least {MinimumBytes} random bytes.");
    }

    /// <summary>The built-in development key for <paramref name="purpose"/>: public, for local runs only.</summary>
    public static byte[] DevelopmentKey(string purpose) => SHA256.HashData(Encoding.UTF8.GetBytes($"{DevelopmentSecret}\n{purpose}"));

    /// <summary>A key for a sub-purpose of <paramref name="key"/> (HKDF-SHA256 with <paramref name="label"/>), e.g. account ids and passcode hashes from one account key.</summary>
    public static byte[] Derive(byte[] key, string label) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: [], info: Encoding.UTF8.GetBytes("fanvote\n" + label));
}
