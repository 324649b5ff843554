using FanVote.Contracts;
using FanVote.Contracts.Events;
using static FanVote.Fraud.Core.FeatureSchema;

namespace FanVote.Fraud.Core.Tests;

public sealed class RiskDecisionsTests
{
    private const double Threshold = 1.0;
    private readonly RiskDecisions _decisions = new(new RiskPolicy());
    private readonly RiskOutput _out = new();

    [Fact]
    public void OneSuspectVote_IsAFluke_NoVerdictNoFlags()
    {
        Observe(Votes.At(0), 0.2);
        Observe(Votes.At(1_000), 3.0);
        Observe(Votes.At(2_000), 0.2);
        Observe(Votes.At(62_000), 3.0); // the first one is more than 60 s ago

        Assert.Empty(_out.Verdicts);
        Assert.Empty(_out.Flags);
    }

    [Fact]
    public void TwoSuspectVotesWithinAMinute_ChallengeTheAccount_AndFlagItsVotesFromTheFirstSuspectOne()
    {
        var before = Votes.At(0);
        var first = Votes.At(1_000);
        var between = Votes.At(2_000);
        var second = Votes.At(30_000);
        Observe(before, 0.1);
        Observe(first, 2.0);
        Observe(between, 0.3);
        Assert.Empty(_out.Verdicts);
        Observe(second, 2.5);

        var v = Assert.Single(_out.Verdicts);
        Assert.Equal((RiskSubjects.Account, "a1", RiskAction.Challenge, 2.5), (v.SubjectKind, v.Subject, v.Action, v.Score));
        Assert.Equal(Votes.T0 + 30_000, v.IssuedAtMs);
        Assert.Equal(Votes.T0 + 30_000 + (30 * 60_000), v.ExpiresAtMs);
        var flags = Assert.Single(_out.Flags);
        Assert.Equal([first.VoteId, between.VoteId, second.VoteId], flags.VoteIds);
    }

    [Fact]
    public void DeviceFarmReason_MakesTheDeviceTheSubject()
    {
        var farm = new float[Count];
        farm[DevAccounts10m] = 40;
        Observe(Votes.At(0, account: "x1", device: "phone"), 5, farm);
        Observe(Votes.At(100, account: "x2", device: "phone"), 5, farm);

        var v = Assert.Single(_out.Verdicts);
        Assert.Equal((RiskSubjects.Device, "phone"), (v.SubjectKind, v.Subject));
        Assert.Contains(RiskReasons.DeviceFarm, v.Reasons);
        Assert.Equal(2, _out.Flags.Single().VoteIds.Count);
    }

    [Fact]
    public void AfterAVerdict_InFlightVotesAreFlagged_LaterOnesOnlyWhenSuspect()
    {
        Observe(Votes.At(0), 2);
        Observe(Votes.At(100), 2);
        _out.Clear();

        var inFlight = Votes.At(1_500);
        var calm = Votes.At(4_000);
        var suspect = Votes.At(4_500);
        Observe(inFlight, 0.1);
        Observe(calm, 0.1);
        Observe(suspect, 2);

        Assert.Empty(_out.Verdicts);
        Assert.Equal([inFlight.VoteId, suspect.VoteId], _out.Flags.Single().VoteIds);
    }

    [Fact]
    public void SuspectVotesKeepComingAfterTheVerdict_NewVerdicts_TheThirdBlocks()
    {
        Observe(Votes.At(0), 2);
        Observe(Votes.At(100), 2); // verdict 1 at 0.1 s
        Observe(Votes.At(3_000), 2);
        Observe(Votes.At(4_000), 2); // 3.9 s after the verdict: too soon to mean the challenge was passed
        Assert.Single(_out.Verdicts);

        Observe(Votes.At(6_000), 2); // verdict 2
        Observe(Votes.At(9_000), 2);
        Observe(Votes.At(12_000), 2); // verdict 3

        Assert.Equal([RiskAction.Challenge, RiskAction.Challenge, RiskAction.Block], _out.Verdicts.Select(v => v.Action));
    }

    [Fact]
    public void ReasonsAreNamedFromTheFeatures()
    {
        var f = new float[Count];
        f[AcctGapCount] = 8;
        f[AcctGapCv] = 0.02f;
        f[AcctIpPrefixes10m] = 5;
        Assert.Equal([RiskReasons.Metronome, RiskReasons.IpRotation], RiskReasons.Explain(f));

        f = new float[Count];
        f[AccountAgeLog] = 2; // 6 minutes
        f[IpFreshAccountShare] = 0.9f;
        f[IpAccounts10m] = 30;
        Assert.Equal([RiskReasons.FreshAccountBurst], RiskReasons.Explain(f));

        f[AccountAgeLog] = 10; // 15 days
        Assert.Equal([RiskReasons.Anomalous], RiskReasons.Explain(f));
    }

    [Fact]
    public void LockstepGroup_ThreeMembersSuspect_EveryMemberChallengedAtOnce_OneVerdictEach_LaterMembersToo()
    {
        var roster = Roster(42, "bot");
        var inStep = InStep();
        _decisions.Observe(Votes.At(0, "bot-0"), inStep, 2.0, Threshold, _out, roster);
        _decisions.Observe(Votes.At(100, "bot-1"), inStep, 2.0, Threshold, _out, roster);
        _decisions.Observe(Votes.At(200, "bot-2"), new float[Count], 0.5, Threshold, _out, roster); // not suspect: not counted
        Assert.Empty(_out.Verdicts);
        _decisions.Observe(Votes.At(300, "bot-3"), inStep, 2.0, Threshold, _out, roster);

        Assert.Equal(roster.Members.Order(), _out.Verdicts.Select(v => v.Subject).Order());
        Assert.All(_out.Verdicts, v => Assert.Equal((RiskSubjects.Account, RiskAction.Challenge, Votes.T0 + 300), (v.SubjectKind, v.Action, v.IssuedAtMs)));
        Assert.All(_out.Verdicts, v => Assert.Contains(RiskReasons.Lockstep, v.Reasons));
        Assert.Contains(_out.Flags, f => f.Subject == "bot-3" && f.Reasons.Contains(RiskReasons.Lockstep)); // the vote that tipped it

        // A fourth member suspect changes nothing; a member the roster gains later is challenged at its next vote.
        _out.Clear();
        _decisions.Observe(Votes.At(400, "bot-4"), inStep, 2.0, Threshold, _out, roster);
        Assert.Empty(_out.Verdicts);
        roster.Add("bot-late");
        _decisions.Observe(Votes.At(10_000, "bot-late"), new float[Count], 0.5, Threshold, _out, roster);
        var late = Assert.Single(_out.Verdicts);
        Assert.Equal("bot-late", late.Subject);
    }

    [Fact]
    public void LockstepGroup_TwoSuspectMembers_OrSuspectForAnotherReason_ChallengeNoGroup()
    {
        var roster = Roster(43, "fan");
        var inStep = InStep();
        var fast = new float[Count];
        fast[AcctVotes10s] = 9;
        _decisions.Observe(Votes.At(0, "fan-0"), inStep, 2.0, Threshold, _out, roster);
        _decisions.Observe(Votes.At(100, "fan-1"), inStep, 2.0, Threshold, _out, roster);
        _decisions.Observe(Votes.At(200, "fan-2"), fast, 2.0, Threshold, _out, roster); // suspect, but not for the lockstep
        _decisions.Observe(Votes.At(300, "fan-3"), fast, 2.0, Threshold, _out, roster);

        Assert.Empty(_out.Verdicts);
        Assert.Equal(1, _decisions.Groups);
    }

    /// <summary>A roster of ten accounts named prefix-0 to prefix-9.</summary>
    private static GroupRoster Roster(ulong key, string prefix)
    {
        var roster = new GroupRoster(key);
        foreach (var m in Enumerable.Range(0, 10))
        {
            roster.Add($"{prefix}-{m}");
        }

        return roster;
    }

    /// <summary>Features of a vote in step with a group of ten that is all of its crowd (named lockstep-group).</summary>
    private static float[] InStep()
    {
        var f = new float[Count];
        f[GrpLockstep] = (float)Math.Log(1 + 10);
        f[GrpLockstepShare] = 1;
        return f;
    }

    private void Observe(VoteInput v, double score, float[]? features = null) =>
        _decisions.Observe(v, features ?? new float[Count], score, Threshold, _out);
}
