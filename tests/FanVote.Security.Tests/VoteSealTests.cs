namespace FanVote.Security.Tests;

public sealed class VoteSealTests
{
    private static readonly byte[] Key = Enumerable.Range(7, 32).Select(i => (byte)i).ToArray();
    private static readonly DateTimeOffset At = new(2026, 12, 4, 20, 0, 0, 123, TimeSpan.Zero);
    private static readonly Guid Id = Guid.CreateVersion7(At);

    private static string Seal(VoteSeal s) => s.Seal(Id, "final", "blaze", "g_acc", "phone-1", "203.0.113.7", At, At.AddDays(-3));

    [Fact]
    public void Verify_TheSealedFields_IsTrue()
    {
        using var seal = new VoteSeal(Key);
        var mac = Seal(seal);

        Assert.Equal(43, mac.Length);
        Assert.True(seal.Verify(mac, Id, "final", "blaze", "g_acc", "phone-1", "203.0.113.7", At, At.AddDays(-3)));
    }

    [Fact]
    public void Verify_AnyFieldChanged_IsFalse()
    {
        using var seal = new VoteSeal(Key);
        var mac = Seal(seal);

        Assert.False(seal.Verify(mac, Guid.CreateVersion7(At), "final", "blaze", "g_acc", "phone-1", "203.0.113.7", At, At.AddDays(-3)));
        Assert.False(seal.Verify(mac, Id, "final2", "blaze", "g_acc", "phone-1", "203.0.113.7", At, At.AddDays(-3)));
        Assert.False(seal.Verify(mac, Id, "final", "comet", "g_acc", "phone-1", "203.0.113.7", At, At.AddDays(-3)));
        Assert.False(seal.Verify(mac, Id, "final", "blaze", "g_other", "phone-1", "203.0.113.7", At, At.AddDays(-3)));
        Assert.False(seal.Verify(mac, Id, "final", "blaze", "g_acc", "phone-2", "203.0.113.7", At, At.AddDays(-3)));
        Assert.False(seal.Verify(mac, Id, "final", "blaze", "g_acc", "phone-1", "198.51.100.1", At, At.AddDays(-3)));
        Assert.False(seal.Verify(mac, Id, "final", "blaze", "g_acc", "phone-1", "203.0.113.7", At.AddMilliseconds(1), At.AddDays(-3)));
        Assert.False(seal.Verify(mac, Id, "final", "blaze", "g_acc", "phone-1", "203.0.113.7", At, At.AddDays(-300)));
    }

    [Fact]
    public void Verify_FieldsShiftedAcrossBoundaries_IsFalse()
    {
        // Length-prefixed fields: "ab"+"c" and "a"+"bc" are different inputs.
        using var seal = new VoteSeal(Key);
        var mac = seal.Seal(Id, "ab", "c", "acc", "dev", "", At, At);

        Assert.False(seal.Verify(mac, Id, "a", "bc", "acc", "dev", "", At, At));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")]
    public void Verify_MissingOrJunkSeal_IsFalse(string? junk)
    {
        using var seal = new VoteSeal(Key);
        Assert.False(seal.Verify(junk, Id, "final", "blaze", "g_acc", "phone-1", "203.0.113.7", At, At.AddDays(-3)));
    }

    [Fact]
    public void Verify_SealedWithAnotherKey_IsFalse()
    {
        using var ours = new VoteSeal(Key);
        using var theirs = new VoteSeal(KeySet.DevelopmentKey("vote-seal"));

        Assert.False(ours.Verify(Seal(theirs), Id, "final", "blaze", "g_acc", "phone-1", "203.0.113.7", At, At.AddDays(-3)));
    }

    [Fact]
    public void Seal_LongFields_StillSealsAndChecks()
    {
        using var seal = new VoteSeal(Key);
        var longDevice = new string('d', 2000);
        var mac = seal.Seal(Id, "final", "blaze", "g_acc", longDevice, "203.0.113.7", At, At);

        Assert.True(seal.Verify(mac, Id, "final", "blaze", "g_acc", longDevice, "203.0.113.7", At, At));
    }
}
