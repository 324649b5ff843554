using System.Security.Cryptography;
using FanVote.Certification;
using FanVote.Contracts.Events;
using FanVote.Security;

using Microsoft.Extensions.Configuration;

namespace FanVote.ServiceDefaults.Auth;

/// <summary>
/// The auditor's public key (FANVOTE_AUDIT_PUBLIC_KEY, PEM or base64 SubjectPublicKeyInfo; required where it is used):
/// the orchestrator accepts an audit and results stores a certified result only when tally's signature on it checks
/// with it. Results also publishes it (GET /v1/certification-key) for fans and `./fanvote receipt verify`, who should
/// compare its fingerprint with the one the operator announces.
/// </summary>
public sealed class AuditorKey : IDisposable
{
    private readonly ECDsa _key;

    public AuditorKey(IConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var text = config[AuditSignature.PublicKeySetting];
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new KeyConfigurationException($"{AuditSignature.PublicKeySetting} is not set: certified results are accepted only when the auditor's (tally's) signature checks with this public key. ./fanvote up generates the key pair.");
        }

        try
        {
            _key = AuditSignature.LoadPublicKey(text);
        }
        catch (FormatException e)
        {
            throw new KeyConfigurationException($"{AuditSignature.PublicKeySetting}: {e.Message}");
        }

        KeyId = AuditSignature.KeyId(_key);
        Pem = _key.ExportSubjectPublicKeyInfoPem();
    }

    public string KeyId { get; }

    public string Pem { get; }

    /// <summary>Why <paramref name="result"/> is not the auditor's, or null when it is.</summary>
    public string? Problem(CertifiedResult result) => AuditSignature.Problem(result, _key);

    /// <summary>The key itself, for checks that take one (the lifecycle's audit check).</summary>
    public ECDsa Key => _key;

    public void Dispose() => _key.Dispose();
}
