using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

using FanVote.Security;

namespace FanVote.Ingress.Core;

/// <summary>
/// The receipt returned with 202: an HMAC over what was accepted (vote id, window, candidate, time), so a fan
/// can later show the platform exactly what it acknowledged. It is checkable only by the platform; the
/// public, trust-free check is the Merkle inclusion proof published after the audit.
/// </summary>
public sealed class VoteReceipts(byte[] key) : IDisposable
{
    private readonly KeyedHmac _mac = new(key);

    public string Issue(Guid voteId, string windowId, string candidateId, DateTimeOffset acceptedAt)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        _mac.Compute(Encoding.UTF8.GetBytes(Canonical(voteId, windowId, candidateId, acceptedAt)), mac);
        return "r1." + Base64Url.EncodeToString(mac);
    }

    public bool Verify(string receipt, Guid voteId, string windowId, string candidateId, DateTimeOffset acceptedAt)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        if (!receipt.StartsWith("r1.", StringComparison.Ordinal))
        {
            return false;
        }

        byte[] sig;
        try
        {
            sig = Base64Url.DecodeFromChars(receipt.AsSpan(3));
        }
        catch (FormatException)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        _mac.Compute(Encoding.UTF8.GetBytes(Canonical(voteId, windowId, candidateId, acceptedAt)), expected);
        return CryptographicOperations.FixedTimeEquals(sig, expected);
    }

    public void Dispose() => _mac.Dispose();

    private static string Canonical(Guid voteId, string windowId, string candidateId, DateTimeOffset acceptedAt) =>
        string.Join('\n', voteId.ToString("D"), windowId, candidateId, acceptedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
}
