using FanVote.Contracts;
using static FanVote.Fraud.Core.FeatureSchema;

namespace FanVote.Fraud.Core.Tests;

/// <summary>Each feature's definition, pinned with cases worked out by hand (times in ms from a whole minute).</summary>
public sealed class FeatureTests
{
    [Fact]
    public void Counts_WindowsAreTheCurrentBucketAndThePreviousOnes_IncludingThisVote()
    {
        var x = new VelocityFeatures();
        x.Extract(Votes.At(0));
        x.Extract(Votes.At(500));
        x.Extract(Votes.At(9_500));

        var f = x.Extract(Votes.At(10_200));
        Assert.Equal(2, f[AcctVotes10s]); // 1-s buckets 1..10: 9.5 s and 10.2 s
        Assert.Equal(4, f[AcctVotes60s]); // 10-s buckets -4..1: all four
        Assert.Equal(4, f[AcctVotes10m]);

        f = x.Extract(Votes.At(59_900));
        Assert.Equal(1, f[AcctVotes10s]); // buckets 50..59
        Assert.Equal(5, f[AcctVotes60s]); // 10-s buckets 0..5

        f = x.Extract(Votes.At(61_000));
        Assert.Equal(3, f[AcctVotes60s]); // 10-s buckets 1..6: 10.2, 59.9, 61
        Assert.Equal(6, f[AcctVotes10m]); // 1-min buckets -8..1: all six

        f = x.Extract(Votes.At(600_000));
        Assert.Equal(2, f[AcctVotes10m]); // 1-min buckets 1..10: 61 s and 600 s
    }

    [Fact]
    public void Counts_AreKeptPerAccountDeviceAndPrefix()
    {
        var x = new VelocityFeatures();
        x.Extract(Votes.At(0, account: "a1", device: "d1", ip: "203.0.113.7"));
        x.Extract(Votes.At(100, account: "a2", device: "d1", ip: "203.0.113.200"));
        var f = x.Extract(Votes.At(200, account: "a3", device: "d2", ip: "203.0.113.9"));

        Assert.Equal(1, f[AcctVotes10s]);
        Assert.Equal(1, f[DevVotes10s]);
        Assert.Equal(3, f[IpVotes10s]); // one /24
    }

    [Fact]
    public void LateVote_CountsInItsOwnBucket()
    {
        var x = new VelocityFeatures();
        x.Extract(Votes.At(20_000));
        var f = x.Extract(Votes.At(15_000)); // arrives after a later vote

        Assert.Equal(1, f[AcctVotes10s]); // buckets 6..15 hold only itself
        Assert.Equal(1, f[AcctVotes60s]); // 10-s buckets -4..1: the 20-s vote (bucket 2) is later than this one
        Assert.Equal(2, f[AcctVotes10m]); // both in minute 0
    }

    [Fact]
    public void DistinctAccounts_PerDeviceAndPrefix_OverTenMinutes_WithFreshShare()
    {
        var x = new VelocityFeatures();
        x.Extract(Votes.At(0, account: "a1", ageMs: 2 * Votes.Day));
        x.Extract(Votes.At(1_000, account: "a2", ageMs: 3_600_000)); // an hour old: fresh
        x.Extract(Votes.At(2_000, account: "a1", ageMs: 2 * Votes.Day));
        var f = x.Extract(Votes.At(3_000, account: "a3", ageMs: 60_000)); // fresh

        Assert.Equal(3, f[DevAccounts10m]);
        Assert.Equal(3, f[IpAccounts10m]);
        Assert.Equal(2f / 3, f[IpFreshAccountShare], 5);

        f = x.Extract(Votes.At(601_500, account: "a4"));
        Assert.Equal(3, f[DevAccounts10m]); // from 1.5 s on: a1 (2 s), a3 (3 s), a4; a2 (1 s) is out
    }

    [Fact]
    public void DistinctAccounts_ForgetAccountsLastSeenMoreThanTenMinutesAgo()
    {
        var x = new VelocityFeatures();
        x.Extract(Votes.At(0, account: "a1"));
        x.Extract(Votes.At(5_000, account: "a2"));
        var f = x.Extract(Votes.At(603_000, account: "a3"));

        Assert.Equal(2, f[DevAccounts10m]); // a1 last seen 603 s ago: out; a2 598 s ago: in
    }

    [Fact]
    public void DistinctAccounts_SaturateAtTheCapacity()
    {
        var x = new VelocityFeatures();
        float[] f = [];
        for (var i = 0; i < 100; i++)
        {
            f = x.Extract(Votes.At(i * 100, account: $"a{i}"));
        }

        Assert.Equal(64, f[DevAccounts10m]);
    }

    [Fact]
    public void GapRegularity_IsTheCoefficientOfVariationOfTheLastGaps()
    {
        var x = new VelocityFeatures();
        x.Extract(Votes.At(0));
        var f = x.Extract(Votes.At(1_000));
        Assert.Equal(1f, f[AcctGapCv]); // one gap: unknown, reported as 1
        Assert.Equal(1, f[AcctGapCount]);

        f = x.Extract(Votes.At(3_000)); // gaps 1 s, 2 s: mean 1.5, population sd 0.5
        Assert.Equal(1f / 3, f[AcctGapCv], 5);
        Assert.Equal(2, f[AcctGapCount]);
        Assert.Equal((float)Math.Log(2.5), f[AcctGapMeanLog], 5);

        var metronome = new VelocityFeatures();
        for (var i = 0; i < 12; i++)
        {
            f = metronome.Extract(Votes.At(i * 2_000));
        }

        Assert.Equal(0f, f[AcctGapCv]);
        Assert.Equal(8, f[AcctGapCount]); // the last 9 votes
        Assert.Equal(0f, f[DevGapCv]);
    }

    [Fact]
    public void GapRegularity_UsesOnlyVotesWithinTenMinutes()
    {
        var x = new VelocityFeatures();
        x.Extract(Votes.At(0));
        x.Extract(Votes.At(1_000));
        var f = x.Extract(Votes.At(700_000));

        Assert.Equal(0, f[AcctGapCount]);
        Assert.Equal(1f, f[AcctGapCv]);
    }

    [Fact]
    public void CandidateShare_IsTheShareOfRecentVotesForThisCandidate_PerWindow()
    {
        var x = new VelocityFeatures();
        x.Extract(Votes.At(0, candidate: "c1"));
        x.Extract(Votes.At(1_000, candidate: "c1"));
        var f = x.Extract(Votes.At(2_000, candidate: "c2"));
        Assert.Equal(1f / 3, f[AcctCandidateShare], 5);

        f = x.Extract(Votes.At(3_000, candidate: "c1"));
        Assert.Equal(3f / 4, f[AcctCandidateShare], 5);

        f = x.Extract(Votes.At(4_000, candidate: "c1", window: "other-show"));
        Assert.Equal(1f / 5, f[AcctCandidateShare], 5); // "c1" of another window is another candidate
        Assert.Equal(1f / 5, f[DevCandidateShare], 5);
        Assert.Equal(1f / 5, f[IpCandidateShare], 5);
    }

    [Fact]
    public void AccountNetworkAndDeviceSpread_CountDistinctPrefixesAndDevices()
    {
        var x = new VelocityFeatures();
        x.Extract(Votes.At(0, ip: "203.0.113.7", device: "d1"));
        x.Extract(Votes.At(1_000, ip: "203.0.113.99", device: "d2")); // same /24
        var f = x.Extract(Votes.At(2_000, ip: "2001:db8:1:2::5", device: "d3"));

        Assert.Equal(2, f[AcctIpPrefixes10m]);
        Assert.Equal(3, f[AcctDevices10m]);
    }

    [Fact]
    public void AccountAge_IsLogOfOnePlusMinutes()
    {
        var f = new VelocityFeatures().Extract(Votes.At(0, ageMs: 59 * 60_000));
        Assert.Equal((float)Math.Log(60), f[AccountAgeLog], 5);

        f = new VelocityFeatures().Extract(Votes.At(0, ageMs: -5_000)); // created "after" the vote (clock skew): age 0
        Assert.Equal(0f, f[AccountAgeLog]);
    }

    [Fact]
    public void IdleSubjects_AreSweptAfterTheLongestWindow()
    {
        var x = new VelocityFeatures();
        for (var i = 0; i < 50; i++)
        {
            x.Extract(Votes.At(i, account: $"a{i}", device: $"d{i}"));
        }

        Assert.Equal(50, x.Tracked.Accounts);
        var f = x.Extract(Votes.At(800_000, account: "a0", device: "d0"));

        Assert.Equal(1, x.Tracked.Accounts);
        Assert.Equal(1, f[AcctVotes10m]); // a0 starts over
    }

    [Fact]
    public void SubjectCap_BeyondItVotesAreScoredWithoutHistory()
    {
        var x = new VelocityFeatures(new FeatureOptions { MaxSubjectsPerKind = 2 });
        x.Extract(Votes.At(0, account: "a1", device: "d1", ip: "203.0.113.1"));
        x.Extract(Votes.At(1, account: "a2", device: "d2", ip: "198.51.100.1"));
        x.Extract(Votes.At(2, account: "a3", device: "d3", ip: "192.0.2.1"));
        var f = x.Extract(Votes.At(3, account: "a3", device: "d3", ip: "192.0.2.1"));

        Assert.Equal(1, f[AcctVotes10s]); // not remembered: only this vote
        Assert.Equal(6, x.Untracked);
        Assert.Equal((2, 2, 2), x.Tracked);
    }

    [Theory]
    [InlineData("203.0.113.7")]
    [InlineData("::ffff:198.51.100.9")]
    [InlineData("2001:db8:abcd:12:1:2:3:4")]
    [InlineData("fe80::1%3")]
    [InlineData("not an ip")]
    public void IpPrefix_ExtractorGroupsExactlyAsTheSharedDefinition(string ip)
    {
        var x = new VelocityFeatures();
        x.Extract(Votes.At(0, account: "a1", ip: ip));
        var sameNetwork = RiskSubjects.IpPrefixOf(ip) == "unknown" ? "also not an ip" : ip;
        var f = x.Extract(Votes.At(1, account: "a2", ip: sameNetwork));

        Assert.Equal(2, f[IpAccounts10m]);
        Assert.Equal(RiskSubjects.IpPrefixOf(ip), RiskSubjects.IpPrefixOf(sameNetwork));
    }

    [Fact]
    public void Schema_VersionNamesEveryFeatureInOrder()
    {
        Assert.Equal(Count, FeatureSchema.Names.Count);
        Assert.Equal(Count, FeatureSchema.Names.Distinct().Count());
        Assert.StartsWith($"f{Count}-r{Revision}-", FeatureSchema.Version, StringComparison.Ordinal);
    }
}
