using System.Security.Cryptography;
using System.Text;
using FanVote.Contracts.Events;

namespace FanVote.Certification;

/// <summary>
/// The auditor's signature on a certified result: ECDSA P-256 over SHA-256 of "fanvote-certified-result-signature-v1\n"
/// followed by the lower-case hex digest, encoded IEEE P1363 (r ‖ s, 64 bytes) in base64. The digest covers every field
/// of the result, so the signature does too. Tally (the auditor) holds the private key; the orchestrator, results and
/// `./fanvote receipt verify` check with the public key, which is published (SubjectPublicKeyInfo, PEM or base64 DER).
/// </summary>
public static class AuditSignature
{
    public const string SigningKeySetting = "FANVOTE_AUDIT_SIGNING_KEY";
    public const string PublicKeySetting = "FANVOTE_AUDIT_PUBLIC_KEY";
    private const string Context = "fanvote-certified-result-signature-v1\n";

    /// <summary>The result with <see cref="CertifiedResult.Signature"/> and <see cref="CertifiedResult.SigningKeyId"/> set; its digest must be correct.</summary>
    public static CertifiedResult Sign(CertifiedResult result, ECDsa privateKey)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(privateKey);
        if (!CertifiedDigest.Matches(result))
        {
            throw new InvalidOperationException("the result's digest does not match its content: compute the digest before signing");
        }

        var signature = privateKey.SignData(Message(result.Digest), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return result with { Signature = Convert.ToBase64String(signature), SigningKeyId = KeyId(privateKey) };
    }

    /// <summary>Why <paramref name="result"/> is not a result signed by <paramref name="publicKey"/> with an intact digest, or null when it is.</summary>
    public static string? Problem(CertifiedResult result, ECDsa publicKey)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(publicKey);
        if (!CertifiedDigest.Matches(result))
        {
            return "its digest does not match its content";
        }

        if (string.IsNullOrEmpty(result.Signature))
        {
            return "it is not signed";
        }

        if (!string.Equals(result.SigningKeyId, KeyId(publicKey), StringComparison.OrdinalIgnoreCase))
        {
            return $"it was signed with key {result.SigningKeyId}, not with the auditor's key {KeyId(publicKey)}";
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(result.Signature);
        }
        catch (FormatException)
        {
            return "its signature is not base64";
        }

        return publicKey.VerifyData(Message(result.Digest), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            ? null
            : "its signature does not verify with the auditor's public key";
    }

    /// <summary>Hex of the first 8 bytes of SHA-256 over the key's SubjectPublicKeyInfo.</summary>
    public static string KeyId(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()).AsSpan(0, 8));
    }

    /// <summary>A public key from PEM ("-----BEGIN PUBLIC KEY-----") or base64 SubjectPublicKeyInfo; the curve must be P-256.</summary>
    public static ECDsa LoadPublicKey(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var key = ECDsa.Create();
        try
        {
            if (text.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                key.ImportFromPem(text);
            }
            else
            {
                key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(text.Trim()), out _);
            }

            return CheckCurve(key);
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new FormatException($"not an ECDSA P-256 public key (PEM or base64 SubjectPublicKeyInfo): {e.Message}", e);
        }
    }

    /// <summary>A private key from PEM or base64 PKCS#8; the curve must be P-256.</summary>
    public static ECDsa LoadPrivateKey(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var key = ECDsa.Create();
        try
        {
            if (text.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                key.ImportFromPem(text);
            }
            else
            {
                key.ImportPkcs8PrivateKey(Convert.FromBase64String(text.Trim()), out _);
            }

            return CheckCurve(key);
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new FormatException($"not an ECDSA P-256 private key (PEM or base64 PKCS#8): {e.Message}", e);
        }
    }

    /// <summary>A new key pair: (base64 PKCS#8 private key, base64 SubjectPublicKeyInfo public key).</summary>
    public static (string PrivateKey, string PublicKey) NewKeyPair()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (Convert.ToBase64String(key.ExportPkcs8PrivateKey()), Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()));
    }

    private static byte[] Message(string digest) => Encoding.UTF8.GetBytes(Context + digest.ToLowerInvariant());

    private static ECDsa CheckCurve(ECDsa key)
    {
        if (key.KeySize != 256)
        {
            throw new ArgumentException($"the key is on a {key.KeySize}-bit curve; the auditor's key is ECDSA P-256");
        }

        return key;
    }
}
