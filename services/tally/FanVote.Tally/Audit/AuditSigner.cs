using System.Security.Cryptography;
using FanVote.Certification;
using FanVote.Contracts.Events;
using FanVote.Security;

namespace FanVote.Tally.Audit;

/// <summary>
/// The auditor's private key (FANVOTE_AUDIT_SIGNING_KEY: ECDSA P-256, PKCS#8 base64 or PEM; required in every
/// environment, there is no development stand-in): every certified result tally stores is signed with it
/// (<see cref="AuditSignature"/>). The orchestrator, results and `./fanvote receipt verify` check the signature
/// with the matching public key.
/// </summary>
public sealed class AuditSigner : IDisposable
{
    private readonly ECDsa _key;

    public AuditSigner(IConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var text = config[AuditSignature.SigningKeySetting];
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new KeyConfigurationException(
                $"{AuditSignature.SigningKeySetting} is not set: tally signs every certified result with the auditor's ECDSA P-256 key (PKCS#8, base64 or PEM); " +
                $"the orchestrator and results check it with {AuditSignature.PublicKeySetting}. ./fanvote up generates the pair.");
        }

        try
        {
            _key = AuditSignature.LoadPrivateKey(text);
        }
        catch (FormatException e)
        {
            throw new KeyConfigurationException($"{AuditSignature.SigningKeySetting}: {e.Message}");
        }

        KeyId = AuditSignature.KeyId(_key);
    }

    /// <summary>The fingerprint results and operators see on every signed result.</summary>
    public string KeyId { get; }

    public CertifiedResult Sign(CertifiedResult result) => AuditSignature.Sign(result, _key);

    public void Dispose() => _key.Dispose();
}
