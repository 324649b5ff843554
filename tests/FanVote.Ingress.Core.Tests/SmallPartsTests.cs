using System.Text;

namespace FanVote.Ingress.Core.Tests;

public sealed class SmallPartsTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("receipt-key-0123456789-0123456789-01");

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.0/24")]
    [InlineData("203.0.113.250", "203.0.113.0/24")]
    [InlineData("::ffff:198.51.100.9", "198.51.100.0/24")]
    [InlineData("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48")]
    [InlineData("not an ip", "unknown")]
    public void IpPrefix_GroupsAddressesByNetwork(string ip, string prefix) => Assert.Equal(prefix, IpPrefix.Of(ip));

    [Fact]
    public void Receipt_VerifiesOnlyTheExactVote()
    {
        var receipts = new VoteReceipts(Key);
        var id = Guid.NewGuid();
        var at = new DateTimeOffset(2026, 11, 22, 20, 0, 1, 123, TimeSpan.Zero);

        var r = receipts.Issue(id, "w1", "a", at);

        Assert.True(receipts.Verify(r, id, "w1", "a", at));
        Assert.False(receipts.Verify(r, id, "w1", "b", at));
        Assert.False(receipts.Verify(r, Guid.NewGuid(), "w1", "a", at));
        Assert.False(receipts.Verify(r, id, "w1", "a", at.AddMilliseconds(1)));
        Assert.False(new VoteReceipts(Encoding.UTF8.GetBytes("another-key-0123456789-0123456789-01")).Verify(r, id, "w1", "a", at));
        Assert.False(receipts.Verify("r1.%%%", id, "w1", "a", at));
    }

    [Fact]
    public void AccountIds_SameDeviceSameGuest_ContactSpellingsSameAccount()
    {
        var ids = new AccountIds(Key);

        Assert.Equal(ids.ForGuest("device-1"), ids.ForGuest("device-1"));
        Assert.NotEqual(ids.ForGuest("device-1"), ids.ForGuest("device-2"));
        Assert.Equal(ids.ForContact("Fan@Example.com "), ids.ForContact("fan@example.com"));
        Assert.Equal(ids.ForContact("+82 10-1234-5678"), ids.ForContact("+821012345678"));
        Assert.NotEqual(ids.ForContact("+821012345678"), ids.ForGuest("+821012345678"));
        Assert.NotEqual(ids.ForGuest("device-1"), new AccountIds(Encoding.UTF8.GetBytes("other-key-0123456789-0123456789-0123")).ForGuest("device-1"));
    }
}

public sealed class VoteBodyTests
{
    [Theory]
    [InlineData("{\"candidateId\":\"blaze\"}", "blaze")]
    [InlineData("  {\"other\":[1,{\"x\":2}],\"candidateId\":\"comet\",\"n\":null}  ", "comet")]
    [InlineData("{\"candidateId\":\"a\\u0062c\"}", "abc")]
    public void TryReadCandidate_ValidBody_ReturnsTheCandidate(string body, string expected) =>
        Assert.Equal(expected, VoteRules.TryReadCandidate(System.Text.Encoding.UTF8.GetBytes(body)));

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[\"blaze\"]")]
    [InlineData("\"blaze\"")]
    [InlineData("{}")]
    [InlineData("{\"candidateId\":7}")]
    [InlineData("{\"candidateId\":\"\"}")]
    [InlineData("{\"candidateId\":null}")]
    [InlineData("{\"candidateId\":\"blaze\"")]
    [InlineData("{\"candidateId\":\"blaze\"} {}")]
    [InlineData("{\"candidateId\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}")]
    public void TryReadCandidate_BadBody_ReturnsNull(string body) =>
        Assert.Null(VoteRules.TryReadCandidate(System.Text.Encoding.UTF8.GetBytes(body)));
}
