using static FanVote.Fraud.Core.FeatureSchema;

namespace FanVote.Fraud.Core.Tests;

/// <summary>The group features (issue 14): a swarm acting in lockstep is seen as a group, a crowd at a cue is not.</summary>
public sealed class GroupFeatureTests
{
    private static int Accounts(float logCount) => (int)Math.Round(Math.Exp(logCount) - 1);

    /// <summary>
    /// 20 accounts, each on its own device and home line, voting for one candidate once a round, every 10 s, each at
    /// its own offset within 0.3 s of the round's start: from the fourth round on every member sees all 20.
    /// </summary>
    [Fact]
    public void Lockstep_SwarmMembersSeeTheWholeGroup_AndShareOneRoster()
    {
        var x = new VelocityFeatures();
        var rng = new Random(1);
        var members = Enumerable.Range(0, 20).Select(i => (Account: $"bot-{i}", Offset: rng.Next(0, 300))).ToArray();
        var seen = new Dictionary<string, float[]>();
        GroupRoster? roster = null;
        for (var round = 0; round < 6; round++)
        {
            foreach (var (account, offset) in members)
            {
                var f = x.Extract(Votes.At(1_000 + (round * 10_000) + offset, account, device: "dev-" + account, ip: $"198.51.{rng.Next(256)}.9", candidate: "c2"));
                seen[account] = f;
                if (round == 5)
                {
                    roster ??= x.LastGroup;
                    Assert.Same(roster, x.LastGroup);
                }
            }
        }

        Assert.All(seen.Values, f => Assert.Equal(20, Accounts(f[GrpLockstep])));
        Assert.All(seen.Values, f => Assert.Equal(6, f[GrpEpisodes]));
        Assert.NotNull(roster);
        Assert.Equal(members.Select(m => m.Account).Order(), roster.Members.Order());
        Assert.Contains(RiskReasons.Lockstep, RiskReasons.Explain(seen["bot-0"]));
    }

    /// <summary>
    /// 300 fans answering the same three cues, each starting within seconds of each (exponential, mean 15 s) and
    /// tapping a few times: they act together, but not in the same seconds round after round.
    /// </summary>
    [Fact]
    public void Crowd_AnsweringTheSameCues_IsNotALockstepGroup()
    {
        var x = new VelocityFeatures();
        var rng = new Random(2);
        var votes = new List<VoteInput>();
        for (var i = 0; i < 300; i++)
        {
            foreach (var cue in new[] { 60_000L, 240_000L, 420_000L })
            {
                var t = cue + (long)(-15_000 * Math.Log(1 - rng.NextDouble()));
                for (var k = rng.Next(2, 6); k > 0; k--)
                {
                    votes.Add(Votes.At(t, $"fan-{i}", device: $"dev-{i}", ip: $"100.64.{i % 4}.{1 + (i % 250)}", candidate: "c1"));
                    t += 600 + rng.Next(2_000);
                }
            }
        }

        var most = 0;
        foreach (var v in votes.OrderBy(v => v.AcceptedAtMs))
        {
            most = Math.Max(most, Accounts(x.Extract(v)[GrpLockstep]));
            Assert.Null(x.LastGroup);
        }

        Assert.True(most < RiskReasons.LockstepAccounts, $"a crowd at three cues looked like a lockstep group of {most}");
    }

    [Fact]
    public void Cohort_CountsAccountsForTheCandidateCreatedInTheSameTwoMinutes()
    {
        var x = new VelocityFeatures();
        float[] f = [];
        for (var i = 0; i < 30; i++)
        {
            // Made by one script within a minute, 10 days before; voting minutes apart.
            f = x.Extract(new VoteInput(Guid.NewGuid(), "w", "c3", $"made-{i}", $"d-{i}", "203.0.113.7", Votes.T0 + (i * 5_000), Votes.T0 - (10 * Votes.Day) + (i * 1_000)));
        }

        Assert.Equal(30, Accounts(f[GrpCohort]));
        var other = x.Extract(new VoteInput(Guid.NewGuid(), "w", "c4", "made-99", "d-99", "203.0.113.7", Votes.T0 + 200_000, Votes.T0 - (10 * Votes.Day)));
        Assert.Equal(1, Accounts(other[GrpCohort])); // another candidate: its own cohort

        // Fans told on air to sign up and vote: made in the same minute, minutes ago. Not a cohort (the fresh-account
        // features judge them).
        for (var i = 0; i < 30; i++)
        {
            f = x.Extract(new VoteInput(Guid.NewGuid(), "w", "c5", $"new-{i}", $"n-{i}", "203.0.113.8", Votes.T0 + 300_000 + (i * 1_000), Votes.T0 + 240_000 + (i * 500)));
        }

        Assert.Equal(0, Accounts(f[GrpCohort]));
    }

    [Fact]
    public void Erasure_TakesTheAccountOffItsGroupsRoster()
    {
        var x = new VelocityFeatures();
        GroupRoster? roster = null;
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 10; i++)
            {
                x.Extract(Votes.At(1_000 + (round * 20_000) + (i * 10), $"bot-{i}", device: $"d-{i}"));
                roster = x.LastGroup ?? roster;
            }
        }

        Assert.NotNull(roster);
        Assert.Contains("bot-3", roster.Members);
        Assert.True(x.Forget("bot-3"));
        Assert.DoesNotContain("bot-3", roster.Members);
    }

    [Fact]
    public void Sketch_CountsExactlyWhenQuiet_AndTakesOffTheNoiseWhenBusy()
    {
        var sketch = new GroupSketch(1024, TimeSpan.FromMinutes(2));
        sketch.Advance(Votes.T0);
        for (var i = 0; i < 40; i++)
        {
            sketch.Add(7);
        }

        Assert.Equal(40, sketch.Estimate(7));
        Assert.Equal(0, sketch.Estimate(8));

        // Twenty keys per cell: a key nobody added still reads about nothing, the real one about 40.
        var rng = new Random(3);
        for (var i = 0; i < 20 * 1024; i++)
        {
            sketch.Add((ulong)rng.NextInt64(100, long.MaxValue));
        }

        Assert.InRange(sketch.Estimate(8), 0, 6);
        Assert.InRange(sketch.Estimate(7), 34, 48);

        // Two epochs later everything has aged out.
        sketch.Advance(Votes.T0 + 240_000);
        Assert.Equal(0, sketch.Estimate(7));
    }

    [Fact]
    public void Sketch_WidthMustBeAPowerOfTwo() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupSketch(3000, TimeSpan.FromMinutes(2)));
}
