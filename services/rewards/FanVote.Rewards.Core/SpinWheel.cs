using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace FanVote.Rewards.Core;

/// <summary>One slice of a wheel: what it is called, how likely it is (its weight over the wheel's total) and the points it pays.</summary>
public sealed record WheelSegment(string Label, int Weight, long Prize);

/// <summary>
/// A spin-to-win wheel as the operator defines it and as fans see it before they spin: what a spin costs and the odds
/// table. <see cref="ExpectedPayout"/> is what a spin pays on average, <see cref="HouseEdge"/> the share of the cost the
/// house keeps on average (negative: the wheel gives away points).
/// </summary>
public sealed record SpinWheel(string WheelId, string Name, long Cost, IReadOnlyList<WheelSegment> Segments)
{
    public long TotalWeight => Segments.Sum(s => (long)s.Weight);

    public decimal ExpectedPayout => Segments.Sum(s => (decimal)s.Weight * s.Prize) / TotalWeight;

    public decimal HouseEdge => (Cost - ExpectedPayout) / Cost;

    /// <summary>Each segment's probability, in the order of <see cref="Segments"/>.</summary>
    public IReadOnlyList<decimal> Odds => [.. Segments.Select(s => (decimal)s.Weight / TotalWeight)];
}

/// <summary>The rules a wheel must meet; <see cref="Check"/> says what is wrong in words an operator can act on.</summary>
public static partial class WheelRules
{
    public const int MaxSegments = 64;
    public const int MaxWeight = 1_000_000;
    public const long MaxCost = 1_000_000;
    public const long MaxPrize = 100_000_000;
    public const int MaxLabel = 40;
    public const int MaxName = 100;

    /// <summary>Null when the wheel is well formed, else the first thing wrong with it.</summary>
    public static string? Check(SpinWheel wheel)
    {
        ArgumentNullException.ThrowIfNull(wheel);
        if (!WheelId().IsMatch(wheel.WheelId ?? ""))
        {
            return "wheelId must be 1-64 lower-case letters, digits and '-', starting with a letter or digit";
        }

        if (string.IsNullOrWhiteSpace(wheel.Name) || wheel.Name.Length > MaxName)
        {
            return $"name must be 1-{MaxName} characters";
        }

        if (wheel.Cost is < 1 or > MaxCost)
        {
            return $"cost must be between 1 and {MaxCost} points";
        }

        if (wheel.Segments is null || wheel.Segments.Count is < 2 or > MaxSegments)
        {
            return $"a wheel has 2-{MaxSegments} segments";
        }

        for (var i = 0; i < wheel.Segments.Count; i++)
        {
            var s = wheel.Segments[i];
            if (s is null || string.IsNullOrWhiteSpace(s.Label) || s.Label.Length > MaxLabel)
            {
                return string.Create(CultureInfo.InvariantCulture, $"segment {i}: label must be 1-{MaxLabel} characters");
            }

            if (s.Weight is < 1 or > MaxWeight)
            {
                return string.Create(CultureInfo.InvariantCulture, $"segment {i} ({s.Label}): weight must be between 1 and {MaxWeight}");
            }

            if (s.Prize is < 0 or > MaxPrize)
            {
                return string.Create(CultureInfo.InvariantCulture, $"segment {i} ({s.Label}): prize must be between 0 and {MaxPrize} points");
            }
        }

        return null;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex WheelId();
}

/// <summary>
/// The unbiased draw both spins and raffles use: a number in [0, n) from HMAC-SHA256(key = seed, prefix + round + "\n")
/// for round 0, 1, ...: the MAC's first 8 bytes, big-endian, are r; the first r below the largest multiple of n that
/// fits in 64 bits gives r mod n (so no value is likelier than another).
/// </summary>
public static class FairDraw
{
    public static long Uniform(ReadOnlySpan<byte> seed, string prefix, long n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        var total = (ulong)n;
        var limit = ulong.MaxValue - ((ulong.MaxValue % total) + 1) % total; // the last value of the largest whole multiple of n
        Span<byte> mac = stackalloc byte[32];
        for (var round = 0; ; round++)
        {
            HMACSHA256.HashData(seed, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{prefix}{round}\n")), mac);
            var r = BinaryPrimitives.ReadUInt64BigEndian(mac);
            if (r <= limit)
            {
                return (long)(r % total);
            }
        }
    }
}

/// <summary>
/// Provably fair spins. Before anyone spins, the wheel publishes the commitment: SHA-256 of its 32-byte server seed.
/// A spin's outcome is drawn from HMAC-SHA256(server seed, "fanvote-spin-v1\n" wheel "\n" account "\n" client seed "\n"
/// nonce "\n" round "\n"): the fan picks the client seed, the nonce counts the fan's spins on the wheel (1, 2, 3, ...),
/// so the server cannot pick an outcome after the fact and the fan cannot predict one. The first 8 bytes, big-endian,
/// are a number r; r below the largest multiple of the total weight that fits in 64 bits gives the roll r mod total
/// (no bias), otherwise the next round is tried. The roll falls in the segment whose cumulative weight first exceeds
/// it. When the wheel closes the server seed is revealed: anyone can check it against the commitment and recompute
/// every spin (`./fanvote spin verify`).
/// </summary>
public static class ProvablyFair
{
    public const string Format = "fanvote-spin-v1";

    public const int SeedBytes = 32;

    public const int MaxClientSeed = 64;

    /// <summary>The commitment published before spinning: lower-case hex SHA-256 of the server seed.</summary>
    public static string Commitment(ReadOnlySpan<byte> serverSeed) => Convert.ToHexStringLower(SHA256.HashData(serverSeed));

    /// <summary>True when <paramref name="serverSeed"/> is the seed <paramref name="commitment"/> committed to.</summary>
    public static bool Matches(ReadOnlySpan<byte> serverSeed, string commitment) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Commitment(serverSeed)), Encoding.ASCII.GetBytes(commitment ?? ""));

    /// <summary>A client seed is 1-64 printable ASCII characters (no spaces, no line breaks, which the message separates with).</summary>
    public static bool IsClientSeed(string? seed) => seed is { Length: > 0 and <= MaxClientSeed } && seed.All(c => c is > ' ' and < '\x7f');

    /// <summary>The roll of a spin: a number in [0, total weight) drawn without bias from the seeds and the nonce.</summary>
    public static long Roll(ReadOnlySpan<byte> serverSeed, string wheelId, string accountId, string clientSeed, long nonce, long totalWeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nonce, 1);
        return FairDraw.Uniform(serverSeed, string.Create(CultureInfo.InvariantCulture, $"{Format}\n{wheelId}\n{accountId}\n{clientSeed}\n{nonce}\n"), totalWeight);
    }

    /// <summary>The segment a roll lands in.</summary>
    public static int SegmentOf(SpinWheel wheel, long roll)
    {
        ArgumentNullException.ThrowIfNull(wheel);
        long upTo = 0;
        for (var i = 0; i < wheel.Segments.Count; i++)
        {
            upTo += wheel.Segments[i].Weight;
            if (roll < upTo)
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(roll), roll, "the roll is beyond the wheel's total weight");
    }

    /// <summary>The segment a spin lands in.</summary>
    public static int Spin(ReadOnlySpan<byte> serverSeed, SpinWheel wheel, string accountId, string clientSeed, long nonce)
    {
        ArgumentNullException.ThrowIfNull(wheel);
        return SegmentOf(wheel, Roll(serverSeed, wheel.WheelId, accountId, clientSeed, nonce, wheel.TotalWeight));
    }

    /// <summary>
    /// A wheel's server seed: HMAC-SHA256, under a key derived from the ledger key (label "spin-seeds"), over the wheel
    /// id and a random salt stored with the wheel. The database holds only the salt, so whoever reads it cannot compute
    /// outcomes ahead of the fans; rewards reveals the seed when the wheel closes.
    /// </summary>
    public static byte[] ServerSeed(LedgerKey key, string wheelId, ReadOnlySpan<byte> salt)
    {
        ArgumentNullException.ThrowIfNull(key);
        return HMACSHA256.HashData(key.SpinSeedKey, Encoding.UTF8.GetBytes($"fanvote-spin-seed-v1\n{wheelId}\n{Convert.ToHexStringLower(salt)}\n"));
    }

    /// <summary>
    /// A spin's id: the first 16 bytes of SHA-256 over the wheel, the account and the fan's spin key, in hex. The same
    /// spin asked for twice (a retry, a replay) has the same id, and so the same ledger entries, which happen once.
    /// </summary>
    public static string SpinId(string wheelId, string accountId, string spinKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"fanvote-spin-id-v1\n{wheelId}\n{accountId}\n{spinKey}\n"))[..16]);
}

/// <summary>The ledger entries of one spin: the cost from the fan to the wheel's account, the prize (if any) back.</summary>
public static class SpinEntries
{
    public const string CostReason = "spin";

    public const string PrizeReason = "spin-prize";

    /// <summary>The ledger scope of a spin (the column windows use): one per spin, so each of its entries happens once.</summary>
    public static string Scope(string spinId) => "spin:" + spinId;

    public static IReadOnlyList<NewEntry> For(SpinWheel wheel, string accountId, string spinId, long prize, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(wheel);
        var scope = Scope(spinId);
        var fan = Accounts.Fan(accountId);
        var house = Accounts.Wheel(wheel.WheelId);
        var entries = new List<NewEntry> { new(PayoutPlan.EntryId(scope, house, CostReason), scope, fan, house, wheel.Cost, CostReason, at) };
        if (prize > 0)
        {
            entries.Add(new(PayoutPlan.EntryId(scope, fan, PrizeReason), scope, house, fan, prize, PrizeReason, at));
        }

        return entries;
    }
}

/// <summary>A spin as published to its fan: what recomputing it needs, and what the server said it was.</summary>
public sealed record PublishedSpin(string AccountId, long Nonce, string ClientSeed, int Segment, long Prize);

/// <summary>
/// Checks a closed wheel's spins against its revealed seed: the seed against the commitment published before the
/// spins, each spin's segment and prize against the recomputed outcome, and each fan's nonces against 1, 2, 3, ...
/// without a gap (a skipped nonce is an outcome the server could have thrown away to pick the next).
/// </summary>
public static class SpinVerifier
{
    public static IReadOnlyList<string> Verify(SpinWheel wheel, string commitment, byte[] serverSeed, IEnumerable<PublishedSpin> spins)
    {
        ArgumentNullException.ThrowIfNull(wheel);
        ArgumentNullException.ThrowIfNull(serverSeed);
        ArgumentNullException.ThrowIfNull(spins);
        var findings = new List<string>();
        if (!ProvablyFair.Matches(serverSeed, commitment))
        {
            findings.Add($"the revealed server seed does not match the commitment {commitment} published before the spins (its SHA-256 is {ProvablyFair.Commitment(serverSeed)})");
            return findings;
        }

        foreach (var fan in spins.GroupBy(s => s.AccountId, StringComparer.Ordinal))
        {
            var expected = 1L;
            foreach (var s in fan.OrderBy(s => s.Nonce))
            {
                if (s.Nonce != expected)
                {
                    findings.Add(s.Nonce < expected
                        ? string.Create(CultureInfo.InvariantCulture, $"account {fan.Key}: nonce {s.Nonce} is used twice")
                        : string.Create(CultureInfo.InvariantCulture, $"account {fan.Key}: nonces {expected}-{s.Nonce - 1} are missing (the list must hold every spin of the account on the wheel, from nonce 1)"));
                }

                expected = s.Nonce + 1;
                var segment = ProvablyFair.Spin(serverSeed, wheel, s.AccountId, s.ClientSeed, s.Nonce);
                if (segment != s.Segment || wheel.Segments[segment].Prize != s.Prize)
                {
                    findings.Add(string.Create(CultureInfo.InvariantCulture,
                        $"account {fan.Key}, nonce {s.Nonce}: the seeds give segment {segment} ({wheel.Segments[segment].Label}, {wheel.Segments[segment].Prize} points), the server said segment {s.Segment} ({s.Prize} points)"));
                }
            }
        }

        return findings;
    }
}
