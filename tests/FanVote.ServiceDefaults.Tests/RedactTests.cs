namespace FanVote.ServiceDefaults.Tests;

public sealed class RedactTests
{
    [Fact]
    public void Ids_KeepTheirFirstCharactersAndLength_AddressesTheirPrefix()
    {
        Assert.Equal("g_1a2b…(26)", new RedactedId("g_1a2b3c4d5e6f7a8b9c0d1e2f").ToString());
        Assert.Equal("****", new RedactedId("abcd").ToString());
        Assert.Equal("", new RedactedId(null).ToString());
        Assert.Equal("198.51.100.0/24", new RedactedIp("198.51.100.23").ToString());
        Assert.Equal("2001:db8:1::/48", new RedactedIp("2001:db8:1:2::9").ToString());
        Assert.Equal("unknown", new RedactedIp("junk").ToString());
    }
}
