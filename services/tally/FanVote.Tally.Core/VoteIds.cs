namespace FanVote.Tally.Core;

/// <summary>
/// Vote ids are UUIDv7, minted by ingress when it admits a vote: 48 bits of Unix milliseconds first, so the
/// ledger's primary key is in time order and one window's votes sit in one key range.
/// </summary>
public static class VoteIds
{
    /// <summary>
    /// The smallest and largest UUIDv7 of the milliseconds from <paramref name="from"/> to <paramref name="to"/>,
    /// in PostgreSQL's uuid order (bytewise): <c>vote_id BETWEEN low AND high</c> holds every vote admitted then.
    /// </summary>
    public static (Guid Low, Guid High) Range(DateTimeOffset from, DateTimeOffset to) => (Bound(from, 0x00), Bound(to, 0xFF));

    /// <summary>The Unix milliseconds a UUIDv7 carries (its first 48 bits), or null when <paramref name="id"/> is not a version 7 UUID.</summary>
    public static long? MillisecondsOf(Guid id)
    {
        Span<byte> b = stackalloc byte[16];
        id.TryWriteBytes(b, bigEndian: true, out _);
        if (b[6] >> 4 != 7)
        {
            return null;
        }

        long ms = 0;
        for (var i = 0; i < 6; i++)
        {
            ms = (ms << 8) | b[i];
        }

        return ms;
    }

    private static Guid Bound(DateTimeOffset t, byte fill)
    {
        Span<byte> b = stackalloc byte[16];
        b.Fill(fill);
        var ms = Math.Max(0, t.ToUnixTimeMilliseconds());
        for (var i = 0; i < 6; i++)
        {
            b[i] = (byte)(ms >> (8 * (5 - i)));
        }

        return new Guid(b, bigEndian: true);
    }
}
