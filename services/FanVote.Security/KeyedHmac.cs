using System.Security.Cryptography;

namespace FanVote.Security;

/// <summary>
/// HMAC-SHA256 under one fixed key, computed by a keyed instance per thread. The one-shot
/// <see cref="HMACSHA256.HashData(byte[], byte[])"/> sets the key up again on every call, which costs more than
/// hashing a token; every vote verifies a token and signs a receipt.
/// </summary>
public sealed class KeyedHmac : IDisposable
{
    private readonly ThreadLocal<HMACSHA256> _hmac;

    public KeyedHmac(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var copy = (byte[])key.Clone();
        _hmac = new ThreadLocal<HMACSHA256>(() => new HMACSHA256(copy), trackAllValues: true);
    }

    /// <summary>Writes the 32-byte MAC of <paramref name="data"/> to <paramref name="mac"/>.</summary>
    public void Compute(ReadOnlySpan<byte> data, Span<byte> mac)
    {
        if (!_hmac.Value!.TryComputeHash(data, mac, out var written) || written != HMACSHA256.HashSizeInBytes)
        {
            throw new ArgumentException("the destination must hold 32 bytes", nameof(mac));
        }
    }

    public void Dispose()
    {
        foreach (var h in _hmac.Values)
        {
            h.Dispose();
        }

        _hmac.Dispose();
    }
}
