namespace FanVote.Security.Tests;

public sealed class KeySetTests
{
    private static readonly string KeyA = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly string KeyB = Convert.ToBase64String(Enumerable.Range(2, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public void Symmetric_OutsideDevelopment_MissingKey_RefusesNamingTheSetting()
    {
        var e = Assert.Throws<KeyConfigurationException>(() => new KeySet(allowDevelopmentKeys: false).Symmetric("FANVOTE_VOTE_KEY", null, "vote-seal"));
        Assert.Contains("FANVOTE_VOTE_KEY is not set", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Symmetric_InDevelopment_MissingKey_UsesThePublicDevelopmentKeyAndSaysSo()
    {
        var used = new List<string>();
        var keys = new KeySet(allowDevelopmentKeys: true) { DevelopmentKeyUsed = used.Add };

        var key = keys.Symmetric("FANVOTE_VOTE_KEY", "", "vote-seal");

        Assert.Equal(KeySet.DevelopmentKey("vote-seal"), key);
        Assert.Equal(["FANVOTE_VOTE_KEY"], keys.DevelopmentKeysUsed);
        Assert.Equal(["FANVOTE_VOTE_KEY"], used);
    }

    [Theory]
    [InlineData("AAAA", "holds 3 bytes")]
    [InlineData("not base64!", "is not base64")]
    public void Symmetric_ShortOrMalformed_IsRefusedEvenInDevelopment(string value, string reason)
    {
        var e = Assert.Throws<KeyConfigurationException>(() => new KeySet(allowDevelopmentKeys: true).Symmetric("FANVOTE_RECEIPT_KEY", value, "receipt"));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Symmetric_OneKeyForTwoPurposes_IsRefused()
    {
        var keys = new KeySet(allowDevelopmentKeys: false);
        keys.Symmetric("FANVOTE_RECEIPT_KEY", KeyA, "receipt");

        var e = Assert.Throws<KeyConfigurationException>(() => keys.Symmetric("FANVOTE_VOTE_KEY", KeyA, "vote-seal"));
        Assert.Contains("FANVOTE_VOTE_KEY and FANVOTE_RECEIPT_KEY hold the same key", e.Message, StringComparison.Ordinal);
        Assert.Equal(32, keys.Symmetric("FANVOTE_ACCOUNT_KEY", KeyB, "accounts").Length);
    }

    [Fact]
    public void SessionKeyRing_ReusingAnotherPurposesKey_IsRefused_AndAMissingRingNeedsDevelopment()
    {
        var keys = new KeySet(allowDevelopmentKeys: false);
        keys.Symmetric("FANVOTE_RECEIPT_KEY", KeyA, "receipt");

        Assert.Throws<KeyConfigurationException>(() => SessionKeyRing.Load("k1:" + KeyA, keys));
        Assert.Throws<KeyConfigurationException>(() => SessionKeyRing.Load(null, new KeySet(allowDevelopmentKeys: false)));
        Assert.Throws<KeyConfigurationException>(() => SessionKeyRing.Load("k.1:" + KeyB, new KeySet(allowDevelopmentKeys: false)));
        Assert.Equal("dev", Assert.Single(SessionKeyRing.Load(null, new KeySet(allowDevelopmentKeys: true))).Kid);
    }

    [Fact]
    public void Derive_GivesOneKeyPerLabel()
    {
        var root = Convert.FromBase64String(KeyA);
        Assert.NotEqual(KeySet.Derive(root, "account-ids"), KeySet.Derive(root, "otp-hashes"));
        Assert.Equal(KeySet.Derive(root, "account-ids"), KeySet.Derive(root, "account-ids"));
    }

    [Fact]
    public void Fingerprints_NameEveryKeyLoaded_StablePerKey_AndSayWhichAreDevelopmentKeys()
    {
        var keys = new KeySet(allowDevelopmentKeys: true);
        keys.Symmetric("FANVOTE_VOTE_KEY", KeyA, "vote-seal");
        keys.Symmetric("FANVOTE_LEDGER_KEY", null, "ledger");
        SessionKeyRing.Load("k2:" + KeyB, keys);

        var prints = keys.Fingerprints();
        Assert.Equal(["FANVOTE_VOTE_KEY", "FANVOTE_LEDGER_KEY", "FANVOTE_TOKEN_KEYS (kid k2)"], prints.Select(p => p.Name));
        Assert.Equal([false, true, false], prints.Select(p => p.Development));
        Assert.All(prints, p => Assert.Matches("^[0-9a-f]{16}$", p.Fingerprint));
        Assert.Equal(KeySet.Fingerprint(Convert.FromBase64String(KeyA)), prints[0].Fingerprint);
        var nextStart = new KeySet(allowDevelopmentKeys: false);
        nextStart.Symmetric("FANVOTE_VOTE_KEY", KeyA, "vote-seal");
        Assert.Equal(prints[0].Fingerprint, Assert.Single(nextStart.Fingerprints()).Fingerprint); // the same key, the same fingerprint, in any process
        Assert.Equal(3, prints.Select(p => p.Fingerprint).Distinct().Count());
        Assert.DoesNotContain(Convert.ToHexStringLower(Convert.FromBase64String(KeyA))[..16], prints.Select(p => p.Fingerprint)); // not the key's bytes
    }
}
