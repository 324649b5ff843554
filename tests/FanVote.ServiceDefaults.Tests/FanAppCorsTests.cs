using FanVote.ServiceDefaults;
using Microsoft.Extensions.Configuration;

namespace FanVote.ServiceDefaults.Tests;

/// <summary>The fan web app's origins (FANVOTE_FAN_APP_ORIGINS): bare http(s) origins only, or the service does not start.</summary>
public sealed class FanAppCorsTests
{
    private static IConfiguration With(string? origins) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [FanAppCors.Setting] = origins }).Build();

    [Fact]
    public void Origins_AreBareHttpOrigins_AndNoneMeansNoCrossOriginCall()
    {
        Assert.Equal(["http://127.0.0.1:5080", "https://fans.example.com"], FanAppCors.Origins(With(" http://127.0.0.1:5080 , https://fans.example.com/ ")));
        Assert.Empty(FanAppCors.Origins(With(null)));
        Assert.Empty(FanAppCors.Origins(With("")));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("https://fans.example.com/app")]
    [InlineData("ftp://fans.example.com")]
    [InlineData("fans.example.com")]
    [InlineData("https://fans.example.com?x=1")]
    public void Origins_ThatAreNotBareOrigins_FailTheStart_NamingTheSetting(string origin)
    {
        var e = Assert.Throws<InvalidOperationException>(() => FanAppCors.Origins(With("http://127.0.0.1:5080," + origin)));
        Assert.Contains(FanAppCors.Setting, e.Message, StringComparison.Ordinal);
        Assert.Contains(origin, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheOperatorKeyAndTheSidecarToken_AreNeverHeadersAPageMaySend()
    {
        Assert.DoesNotContain(FanAppCors.AllowedHeaders, h => h.Equals("X-Operator-Key", StringComparison.OrdinalIgnoreCase) || h.Equals("dapr-api-token", StringComparison.OrdinalIgnoreCase));
    }
}
