using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace FanVote.Rewards.Core.Tests;

public sealed class SpinWheelTests
{
    private static readonly DateTimeOffset T = new(2026, 12, 7, 20, 0, 0, TimeSpan.Zero);

    /// <summary>Cost 10; pays 0 (50 %), 5 (30 %), 20 (15 %), 100 (5 %): 9.5 on average, a 5 % house edge.</summary>
    private static readonly SpinWheel Wheel = new("lucky-7", "Lucky seven", 10, [new("nothing", 50, 0), new("five", 30, 5), new("twenty", 15, 20), new("jackpot", 5, 100)]);

    private static readonly byte[] Seed = SHA256.HashData("a server seed for tests"u8);

    [Fact]
    public void ExpectedPayoutAndHouseEdge_FollowFromTheOddsTable()
    {
        Assert.Equal(100, Wheel.TotalWeight);
        Assert.Equal(9.5m, Wheel.ExpectedPayout);
        Assert.Equal(0.05m, Wheel.HouseEdge);
        Assert.Equal([0.5m, 0.3m, 0.15m, 0.05m], Wheel.Odds);
        Assert.True(new SpinWheel("giveaway", "Giveaway", 1, [new("three", 1, 3), new("zero", 1, 0)]).HouseEdge < 0);
    }

    [Fact]
    public void Roll_IsTheDocumentedHmac_SoAnyoneCanRecomputeIt()
    {
        // Written out from the documented formula, not through ProvablyFair: what a fan's own checker would do.
        for (var nonce = 1; nonce <= 50; nonce++)
        {
            var mac = HMACSHA256.HashData(Seed, Encoding.UTF8.GetBytes($"fanvote-spin-v1\nlucky-7\nabc123\nmy-seed\n{nonce}\n0\n"));
            var r = BinaryPrimitives.ReadUInt64BigEndian(mac);
            Assert.Equal((long)(r % 100), ProvablyFair.Roll(Seed, "lucky-7", "abc123", "my-seed", nonce, 100)); // 2^64 mod 100 values of 2^64 are rejected: never seen in 50
        }
    }

    [Fact]
    public void Spin_IsDeterministic_AndChangesWithEveryInput()
    {
        var outcomes = Enumerable.Range(1, 200).Select(n => ProvablyFair.Roll(Seed, "lucky-7", "abc123", "my-seed", n, 1_000_000)).ToList();

        Assert.Equal(outcomes, Enumerable.Range(1, 200).Select(n => ProvablyFair.Roll(Seed, "lucky-7", "abc123", "my-seed", n, 1_000_000)));
        Assert.True(outcomes.Distinct().Count() > 190, "200 nonces give as many different rolls out of a million");
        Assert.NotEqual(outcomes, Enumerable.Range(1, 200).Select(n => ProvablyFair.Roll(Seed, "lucky-7", "abc123", "other-seed", n, 1_000_000)));
        Assert.NotEqual(outcomes, Enumerable.Range(1, 200).Select(n => ProvablyFair.Roll(Seed, "lucky-7", "abc124", "my-seed", n, 1_000_000)));
        Assert.NotEqual(outcomes, Enumerable.Range(1, 200).Select(n => ProvablyFair.Roll(Seed, "lucky-8", "abc123", "my-seed", n, 1_000_000)));
        Assert.NotEqual(outcomes, Enumerable.Range(1, 200).Select(n => ProvablyFair.Roll(SHA256.HashData(Seed), "lucky-7", "abc123", "my-seed", n, 1_000_000)));
    }

    [Fact]
    public void Outcomes_FollowTheOdds_OverManySpins()
    {
        var counts = new int[Wheel.Segments.Count];
        const int spins = 40_000;
        for (var n = 1; n <= spins; n++)
        {
            counts[ProvablyFair.Spin(Seed, Wheel, "abc123", "my-seed", n)]++;
        }

        // Deterministic (fixed seed); a chi-square over 3 degrees of freedom below 16.3 (p = 0.001) for fair odds.
        var chi = Wheel.Segments.Select((s, i) => Math.Pow(counts[i] - (spins * s.Weight / 100.0), 2) / (spins * s.Weight / 100.0)).Sum();
        Assert.True(chi < 16.3, $"counts {string.Join(", ", counts)} against 50/30/15/5 %: chi-square {chi:0.0}");
        var paid = Enumerable.Range(0, counts.Length).Sum(i => (long)counts[i] * Wheel.Segments[i].Prize);
        Assert.InRange(paid / (double)spins, 9.0, 10.0);
    }

    [Fact]
    public void Roll_StaysBelowAnyTotal_IncludingOnesThatDoNotDivide2To64()
    {
        foreach (var total in new long[] { 1, 2, 3, 7, 100, 1_000_003, int.MaxValue, 64 * 1_000_000L })
        {
            for (var n = 1; n <= 200; n++)
            {
                Assert.InRange(ProvablyFair.Roll(Seed, "w", "a", "c", n, total), 0, total - 1);
            }
        }

        Assert.Equal(0, ProvablyFair.SegmentOf(Wheel, 0));
        Assert.Equal(0, ProvablyFair.SegmentOf(Wheel, 49));
        Assert.Equal(1, ProvablyFair.SegmentOf(Wheel, 50));
        Assert.Equal(3, ProvablyFair.SegmentOf(Wheel, 99));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProvablyFair.SegmentOf(Wheel, 100));
    }

    [Fact]
    public void Commitment_MatchesOnlyItsSeed()
    {
        var commitment = ProvablyFair.Commitment(Seed);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Seed)), commitment);
        Assert.True(ProvablyFair.Matches(Seed, commitment));
        Assert.False(ProvablyFair.Matches(SHA256.HashData(Seed), commitment));
        Assert.False(ProvablyFair.Matches(Seed, ""));
    }

    [Fact]
    public void ServerSeed_NeedsTheLedgerKey_AndDiffersPerWheelAndSalt()
    {
        var key = new LedgerKey(RandomNumberGenerator.GetBytes(32));
        var salt = RandomNumberGenerator.GetBytes(32);

        Assert.Equal(ProvablyFair.ServerSeed(key, "w1", salt), ProvablyFair.ServerSeed(key, "w1", salt));
        Assert.NotEqual(ProvablyFair.ServerSeed(key, "w1", salt), ProvablyFair.ServerSeed(key, "w2", salt));
        Assert.NotEqual(ProvablyFair.ServerSeed(key, "w1", salt), ProvablyFair.ServerSeed(key, "w1", RandomNumberGenerator.GetBytes(32)));
        Assert.NotEqual(ProvablyFair.ServerSeed(key, "w1", salt), ProvablyFair.ServerSeed(new LedgerKey(RandomNumberGenerator.GetBytes(32)), "w1", salt));
    }

    [Theory]
    [InlineData("Bad Id", "wheelId")]
    [InlineData("", "wheelId")]
    [InlineData("ok", "cost")]
    [InlineData("ok", "segments")]
    [InlineData("ok", "weight")]
    [InlineData("ok", "prize")]
    [InlineData("ok", "label")]
    [InlineData("ok", "name")]
    public void WheelRules_NameWhatIsWrong(string id, string wrong)
    {
        var wheel = wrong switch
        {
            "cost" => Wheel with { WheelId = id, Cost = 0 },
            "segments" => Wheel with { WheelId = id, Segments = [new("only", 1, 5)] },
            "weight" => Wheel with { WheelId = id, Segments = [new("a", 0, 5), new("b", 1, 5)] },
            "prize" => Wheel with { WheelId = id, Segments = [new("a", 1, -5), new("b", 1, 5)] },
            "label" => Wheel with { WheelId = id, Segments = [new("a", 1, 5), new(" ", 1, 5)] },
            "name" => Wheel with { WheelId = id, Name = new string('n', WheelRules.MaxName + 1) },
            _ => Wheel with { WheelId = id },
        };

        Assert.Contains(wrong, WheelRules.Check(wheel), StringComparison.Ordinal);
        Assert.Null(WheelRules.Check(Wheel));
    }

    [Fact]
    public void SpinEntries_DebitTheFanTheCost_AndCreditThePrize_OncePerSpin()
    {
        var spinId = ProvablyFair.SpinId("lucky-7", "abc123", "key-00000001");
        var won = SpinEntries.For(Wheel, "abc123", spinId, prize: 20, T);
        var lost = SpinEntries.For(Wheel, "abc123", spinId, prize: 0, T);

        Assert.Equal(2, won.Count);
        Assert.Equal((Accounts.Fan("abc123"), Accounts.Wheel("lucky-7"), 10L), (won[0].Debit, won[0].Credit, won[0].Amount));
        Assert.Equal((Accounts.Wheel("lucky-7"), Accounts.Fan("abc123"), 20L), (won[1].Debit, won[1].Credit, won[1].Amount));
        Assert.Single(lost);
        Assert.Equal(won[0].EntryId, lost[0].EntryId);
        Assert.NotEqual(spinId, ProvablyFair.SpinId("lucky-7", "abc123", "key-00000002"));
        Assert.NotEqual(spinId, ProvablyFair.SpinId("lucky-7", "abc124", "key-00000001"));

        // Debits chain and verify like credits; the fan's balance is what they were given, minus the cost, plus the prize.
        var given = new NewEntry(Guid.NewGuid(), "w1", Accounts.Issuance, Accounts.Fan("abc123"), 100, "counted-votes", T);
        var rows = LedgerChain.Append(new LedgerKey(new byte[32]), 0, LedgerChain.Genesis, [given, .. won]);
        Assert.True(LedgerVerifier.Verify(new LedgerKey(new byte[32]), rows, LedgerChain.Balances(rows)).Intact);
        Assert.Equal(110, LedgerChain.Balances(rows)[Accounts.Fan("abc123")]);
        Assert.Equal(-10, LedgerChain.Balances(rows)[Accounts.Wheel("lucky-7")]);
    }

    [Theory]
    [InlineData("my-seed", true)]
    [InlineData("x", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("line\nbreak", false)]
    [InlineData("ünïcode", false)]
    public void ClientSeed_IsPrintableAsciiWithoutSeparators(string seed, bool ok) => Assert.Equal(ok, ProvablyFair.IsClientSeed(seed));
}
