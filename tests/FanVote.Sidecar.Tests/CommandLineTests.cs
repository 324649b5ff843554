using FanVote.Sidecar.Configuration;

namespace FanVote.Sidecar.Tests;

public sealed class CommandLineTests
{
    private static readonly Func<string, string?> NoEnv = _ => null;

    [Fact]
    public void Parse_DaprdFlagsInGoSyntax_AreAllRead()
    {
        var o = CommandLine.Parse(
            ["--app-id", "probe", "-app-port=5000", "--dapr-http-port", "3599", "--dapr-grpc-port=50099",
             "--resources-path", "a", "--components-path", "b", "--enable-api-logging", "--max-body-size", "8Mi",
             "--app-max-concurrency", "7", "--log-as-json=false", "--placement-host-address", "x:1"],
            NoEnv);
        Assert.Equal("probe", o.AppId);
        Assert.Equal(5000, o.AppPort);
        Assert.Equal(3599, o.DaprHttpPort);
        Assert.Equal(50099, o.DaprGrpcPort);
        Assert.Equal(["a", "b"], o.ResourcesPaths);
        Assert.True(o.EnableApiLogging);
        Assert.False(o.LogAsJson);
        Assert.Equal(8L * 1024 * 1024, o.MaxBodySizeBytes);
        Assert.Equal(7, o.AppMaxConcurrency);
    }

    [Fact]
    public void Parse_UnknownFlag_IsAnErrorLikeDaprd()
    {
        var e = Assert.Throws<CommandLineException>(() => CommandLine.Parse(["--app-id", "a", "--no-such-flag", "1"], NoEnv));
        Assert.Contains("no-such-flag", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Tokens_ComeFromTheEnvironment()
    {
        var o = CommandLine.Parse(["--app-id", "a"], n => n switch { "DAPR_API_TOKEN" => "t1", "APP_API_TOKEN" => "t2", _ => null });
        Assert.Equal("t1", o.ApiToken);
        Assert.Equal("t2", o.AppApiToken);
    }

    [Fact]
    public void Parse_NonHttpAppProtocol_IsRejectedWithAReason()
    {
        var e = Assert.Throws<CommandLineException>(() => CommandLine.Parse(["--app-id", "a", "--app-protocol", "grpc"], NoEnv));
        Assert.Contains("daprd", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0h0m5s0ms", 5000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1.5s", 1500)]
    [InlineData("250ms", 250)]
    [InlineData("PT10S", 10_000)]
    [InlineData("P1DT1H", 90_000_000)]
    public void Durations_AllThreeFormats_Parse(string text, long ms)
    {
        Assert.True(Durations.TryParse(text, out var d));
        Assert.Equal(ms, (long)d.TotalMilliseconds);
    }

    [Fact]
    public void Durations_RepeatedIsoPeriod_GivesRepetitions()
    {
        Assert.True(Durations.TryParsePeriod("R5/PT10S", out var p, out var n));
        Assert.Equal(TimeSpan.FromSeconds(10), p);
        Assert.Equal(5, n);
        Assert.False(Durations.TryParse("10 seconds", out _));
    }
}
