using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace FanVote.Security;

/// <summary>
/// The seal ingress puts on every vote it accepts: HMAC-SHA256, under a key only ingress and tally hold
/// (FANVOTE_VOTE_KEY), over every field of the vote. Tally counts a vote only when its seal checks, so a vote that
/// did not come through ingress's checks (token, window open, quota, rate limits) cannot be counted, whichever way it
/// reached the broker. The input is unambiguous: a format tag, then each field as its UTF-8 length (4 bytes,
/// big-endian) and bytes, then the two times as Unix milliseconds (8 bytes each). The seal is base64url, 43 characters.
/// </summary>
public sealed class VoteSeal(byte[] key) : IDisposable
{
    public const string Setting = "FANVOTE_VOTE_KEY";
    private static readonly byte[] Format = "fanvote-vote-seal-v1"u8.ToArray();
    private readonly KeyedHmac _mac = new(key);

    public string Seal(Guid voteId, string windowId, string candidateId, string accountId, string deviceId, string ip, DateTimeOffset acceptedAt, DateTimeOffset accountCreatedAt)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Compute(voteId, windowId, candidateId, accountId, deviceId, ip, acceptedAt, accountCreatedAt, mac);
        return Base64Url.EncodeToString(mac);
    }

    public bool Verify(string? seal, Guid voteId, string windowId, string candidateId, string accountId, string deviceId, string ip, DateTimeOffset acceptedAt, DateTimeOffset accountCreatedAt)
    {
        if (seal is not { Length: 43 })
        {
            return false;
        }

        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        try
        {
            if (!Base64Url.TryDecodeFromChars(seal, given, out var n) || n != given.Length)
            {
                return false;
            }
        }
        catch (FormatException)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Compute(voteId, windowId, candidateId, accountId, deviceId, ip, acceptedAt, accountCreatedAt, expected);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    public void Dispose() => _mac.Dispose();

    private void Compute(Guid voteId, string windowId, string candidateId, string accountId, string deviceId, string ip, DateTimeOffset acceptedAt, DateTimeOffset accountCreatedAt, Span<byte> mac)
    {
        ArgumentNullException.ThrowIfNull(windowId);
        ArgumentNullException.ThrowIfNull(candidateId);
        ArgumentNullException.ThrowIfNull(accountId);
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentNullException.ThrowIfNull(ip);
        var size = Format.Length + 16 + (5 * 4) + 16
            + Encoding.UTF8.GetByteCount(windowId) + Encoding.UTF8.GetByteCount(candidateId) + Encoding.UTF8.GetByteCount(accountId)
            + Encoding.UTF8.GetByteCount(deviceId) + Encoding.UTF8.GetByteCount(ip);
        var rented = size <= 512 ? null : ArrayPool<byte>.Shared.Rent(size);
        var buffer = rented is null ? stackalloc byte[512] : rented;
        try
        {
            var at = 0;
            Format.CopyTo(buffer);
            at += Format.Length;
            voteId.TryWriteBytes(buffer[at..], bigEndian: true, out _);
            at += 16;
            foreach (var field in (ReadOnlySpan<string>)[windowId, candidateId, accountId, deviceId, ip])
            {
                var written = Encoding.UTF8.GetBytes(field, buffer[(at + 4)..]);
                BinaryPrimitives.WriteInt32BigEndian(buffer[at..], written);
                at += 4 + written;
            }

            BinaryPrimitives.WriteInt64BigEndian(buffer[at..], acceptedAt.ToUnixTimeMilliseconds());
            BinaryPrimitives.WriteInt64BigEndian(buffer[(at + 8)..], accountCreatedAt.ToUnixTimeMilliseconds());
            at += 16;
            _mac.Compute(buffer[..at], mac);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
