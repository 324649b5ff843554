using FanVote.Security;
using FanVote.ServiceDefaults.Auth;

namespace FanVote.ServiceDefaults.Tests;

public sealed class OperatorKeyTests
{
    private const string K1 = "first-operator-key-0123456789";
    private const string K2 = "second-operator-key-0123456789";

    [Fact]
    public void Parse_TheOneKeyIsOperator_NamedKeysArePeople()
    {
        var keys = OperatorKey.Parse(K1, $" alice={K2} ; bob=third-operator-key-0123456789 ");

        Assert.Equal(["operator", "alice", "bob"], keys.Keys.Select(k => k.Name));
        Assert.Equal(K2, keys.Keys[1].Value);
        Assert.Equal(K1, keys.Value);
        Assert.Equal(["alice"], OperatorKey.Parse(null, $"alice={K1}").Keys.Select(k => k.Name));
    }

    [Theory]
    [InlineData(null, null, "Set FANVOTE_OPERATOR_KEY")]
    [InlineData("short", null, "shorter than 16 characters")]
    [InlineData(null, "alice=short", "the operator key of 'alice' is shorter")]
    [InlineData(null, "Alice Smith=" + K1, "'Alice Smith' is not an operator name")]
    [InlineData(null, K1, "an entry has no name")]
    [InlineData(null, "alice=" + K1 + ";alice=" + K2, "a name or a key repeats")]
    [InlineData(K1, "alice=" + K1, "a name or a key repeats")]
    [InlineData(K1, "operator=" + K2, "a name or a key repeats")]
    public void Parse_RefusesWhatCannotTellOperatorsApart(string? one, string? named, string message)
    {
        var e = Assert.Throws<KeyConfigurationException>(() => OperatorKey.Parse(one, named));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_NeverPrintsAKey()
    {
        var keys = OperatorKey.Parse(K1, $"alice={K2}");

        Assert.DoesNotContain(K1, keys.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(K2, keys.ToString(), StringComparison.Ordinal);
    }
}
