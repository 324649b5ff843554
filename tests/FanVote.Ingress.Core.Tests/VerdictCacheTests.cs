using FanVote.Contracts;
using FanVote.Contracts.Events;

namespace FanVote.Ingress.Core.Tests;

public sealed class VerdictCacheTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 20, 0, 0, TimeSpan.Zero);
    private readonly VerdictCache _cache = new();

    [Fact]
    public void Find_StopsTheAccountOrTheDeviceUnderAVerdict_UntilItLapses()
    {
        var device = Verdict(RiskSubjects.Device, "phone-1");
        Assert.True(_cache.Apply(device, Now));

        Assert.Equal(device, _cache.Find("any-account", "phone-1", Now));
        Assert.Null(_cache.Find("any-account", "phone-2", Now));
        Assert.Null(_cache.Find("any-account", "phone-1", device.ExpiresAt));
        Assert.Equal(1, _cache.Count);
    }

    [Fact]
    public void Apply_IgnoresLapsedPrefixAndAlreadyPassedVerdicts_ClearLiftsOne()
    {
        Assert.False(_cache.Apply(Verdict(RiskSubjects.Account, "a1") with { ExpiresAt = Now }, Now));
        Assert.False(_cache.Apply(Verdict(RiskSubjects.IpPrefix, "100.64.0.0/24"), Now));
        Assert.Equal(0, _cache.Count);

        var v = Verdict(RiskSubjects.Account, "a1");
        _cache.Apply(v, Now);
        _cache.Apply(v with { ChallengeId = Guid.NewGuid(), Action = RiskAction.Clear }, Now);
        Assert.Null(_cache.Find("a1", "d", Now));
        Assert.Equal(0, _cache.Count);
    }

    [Fact]
    public void Pass_LiftsTheVerdict_AndARedeliveredCopyCannotBringItBack_ButANewVerdictCan()
    {
        var v = Verdict(RiskSubjects.Account, "a1");
        _cache.Apply(v, Now);
        Assert.Equal(v, _cache.FindChallenge(v.ChallengeId, "a1", "d", Now));
        Assert.Null(_cache.FindChallenge(v.ChallengeId, "someone-else", "d", Now));

        _cache.Pass(v.SubjectKind, v.Subject, v.ChallengeId, v.ExpiresAt);
        Assert.Null(_cache.Find("a1", "d", Now));
        Assert.True(_cache.WasPassed(v.ChallengeId));
        Assert.False(_cache.Apply(v, Now));

        var again = Verdict(RiskSubjects.Account, "a1");
        Assert.True(_cache.Apply(again, Now));
        Assert.Equal(again, _cache.Find("a1", "d", Now));
    }

    [Fact]
    public void Sweep_ForgetsLapsedVerdictsAndPasses()
    {
        var v = Verdict(RiskSubjects.Device, "phone");
        _cache.Apply(v, Now);
        var passed = Verdict(RiskSubjects.Account, "a");
        _cache.Pass(passed.SubjectKind, passed.Subject, passed.ChallengeId, passed.ExpiresAt);

        _cache.Sweep(v.ExpiresAt);

        Assert.Equal(0, _cache.Count);
        Assert.False(_cache.WasPassed(passed.ChallengeId));
    }

    private static CachedVerdict Verdict(string kind, string subject) =>
        new(kind, subject, Guid.NewGuid(), RiskAction.Challenge, Now.AddMinutes(30), ["device-farm"]);
}
