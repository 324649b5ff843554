using FanVote.Certification;
using FanVote.Contracts.Events;

namespace FanVote.Workflows.Tests;

/// <summary>
/// The lifecycle's pure parts, as the window workflow (FanVote.Orchestrator/Lifecycle) folds them: transitions, the
/// drain rule, the checks on services' reports, failures and step-by-step holds. The workflow itself runs on a Dapr
/// workflow runtime and is tested in FanVote.Orchestrator.Tests and the end-to-end lifecycle tests.
/// </summary>
public sealed class WindowLifecycleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 20, 0, 0, TimeSpan.Zero);
    private static readonly WindowDefinition Def = new("final-1", "Grand final", ["a", "b", "c"], T0.AddMinutes(5), T0.AddMinutes(65), 10);
    private static readonly DateTimeOffset Settled = Def.ClosesAt.AddSeconds(30);
    private static readonly LifecycleTimings Timings = new()
    {
        AcceptSettle = TimeSpan.FromSeconds(30), FlagGrace = TimeSpan.FromSeconds(60), PollInitial = TimeSpan.FromSeconds(1), PollMax = TimeSpan.FromSeconds(8),
    };

    private static AcceptedVotesReported Accepted(long seq, long n, DateTimeOffset at, params Guid[] unconfirmed) =>
        new() { EventId = Guid.NewGuid(), OccurredAt = at, WindowId = Def.WindowId, Seq = seq, Accepted = n, Unconfirmed = unconfirmed };

    private static WindowAudited Audited(CertifiedResult r, DateTimeOffset at) => new() { EventId = Guid.NewGuid(), OccurredAt = at, WindowId = r.WindowId, Result = r };

    private static PersistedVotesReported Persisted(long seq, long n, DateTimeOffset at) =>
        new() { EventId = Guid.NewGuid(), OccurredAt = at, WindowId = Def.WindowId, Seq = seq, Persisted = n };

    /// <summary>A request of the step under way (as the workflow makes one before waiting for its answers).</summary>
    private static WindowState Ask(WindowState s, DateTimeOffset now) => WindowLifecycle.Wait(s, "asked", now + Timings.Poll(s.Progress.Attempts + 1), now);

    private static WindowState ClosedWindow(bool stepByStep = false)
    {
        var s = WindowLifecycle.Create(Def, T0, stepByStep);
        s = WindowLifecycle.Complete(s, WindowPhase.Open, "opened", Def.OpensAt, Def.OpensAt);
        return WindowLifecycle.Complete(s, WindowPhase.Closed, "closed", Def.ClosesAt, Def.ClosesAt);
    }

    private static WindowState Drained(WindowState s, DateTimeOffset at)
    {
        var drained = Drain.Decide(s.Reports, Settled, at);
        Assert.NotNull(drained);
        return WindowLifecycle.Complete(s with { Drained = drained }, WindowPhase.Drained, WindowLifecycle.Describe(drained), at, at);
    }

    private static WindowState DrainedWindow(long accepted, long persisted, params Guid[] unconfirmed)
    {
        var s = Ask(ClosedWindow(), Settled);
        s = WindowLifecycle.Record(s, Accepted(1, accepted, Settled, unconfirmed), Settled);
        s = WindowLifecycle.Record(s, Persisted(1, persisted, Settled), Settled);
        Assert.Null(Drain.Decide(s.Reports, Settled, Settled)); // one persisted count: not yet known to be quiet
        s = Ask(s, Settled.AddSeconds(1));
        s = WindowLifecycle.Record(s, Persisted(2, persisted, Settled.AddSeconds(1)), Settled.AddSeconds(1));
        return Drained(s, Settled.AddSeconds(2));
    }

    [Fact]
    public void Lifecycle_ScheduledToCompleted_EachStepRecordedWithItsTimeAndOutcome()
    {
        var s = DrainedWindow(1200, 1200);
        var flagsIn = s.Drained!.At.AddSeconds(60);
        s = Ask(s, flagsIn);
        var certified = Certified.For(s, 1200, 1200, 700, 480, 0);
        s = WindowLifecycle.Record(s, Audited(certified, flagsIn), flagsIn, Certified.Auditor);
        Assert.Equal(certified, s.AuditReport);
        s = WindowLifecycle.Complete(s with { Certified = s.AuditReport }, WindowPhase.Audited, "audited", flagsIn, flagsIn);
        s = Ask(s, flagsIn);
        s = WindowLifecycle.Record(s, new RewardsPaid
        {
            EventId = Guid.NewGuid(), OccurredAt = flagsIn, WindowId = Def.WindowId, Accounts = 3, Points = 11930, Entries = 5,
            LedgerHeadSeq = 5, LedgerHeadHash = new string('f', 64), VotersDigest = certified.VotersDigest,
        }, flagsIn.AddSeconds(2));
        Assert.Equal(11930, s.PaidReport!.Points);
        s = WindowLifecycle.Complete(s, WindowPhase.PaidOut, "paid", flagsIn.AddSeconds(2), null);
        s = WindowLifecycle.Complete(s, WindowPhase.Completed, "completed", flagsIn.AddSeconds(3), null);

        Assert.Equal(
            [WindowPhase.Scheduled, WindowPhase.Open, WindowPhase.Closed, WindowPhase.Drained, WindowPhase.Audited, WindowPhase.PaidOut, WindowPhase.Completed],
            s.History.Select(h => h.Phase));
        Assert.Equal("drained: 1200 accepted = 1200 persisted", s.History[3].Outcome);
        Assert.Null(s.Progress.NextAttemptAt);
        Assert.False(s.Held);
    }

    [Fact]
    public void Create_KeepsTheNonceItIsGiven_ElseDrawsAFreshOne()
    {
        Assert.Equal("n-1", WindowLifecycle.Create(Def, T0, auditNonce: "n-1").AuditNonce);
        var a = WindowLifecycle.Create(Def, T0).AuditNonce;
        Assert.Equal(32, a.Length);
        Assert.NotEqual(a, WindowLifecycle.Create(Def, T0).AuditNonce);
    }

    [Fact]
    public void Drain_CountsTakenBeforeTheSettleTimeDoNotCount()
    {
        var s = Ask(ClosedWindow(), Settled);
        s = WindowLifecycle.Record(s, Accepted(1, 10, Settled.AddSeconds(-1)), Settled);
        s = WindowLifecycle.Record(s, Persisted(1, 10, Settled.AddSeconds(-1)), Settled);
        s = Ask(s, Settled);
        s = WindowLifecycle.Record(s, Persisted(2, 10, Settled.AddSeconds(-1)), Settled);

        Assert.Null(Drain.Decide(s.Reports, Settled, Settled.AddSeconds(1)));
        Assert.Equal("waiting for the ledger: accepted ?, persisted ?", Drain.Describe(s.Reports, Settled));
    }

    [Fact]
    public void Drain_PersistedBehindOrStillMoving_IsNotDone_QuietAndComplete_Is()
    {
        var t = Settled;
        var s = Ask(ClosedWindow(), t);
        s = WindowLifecycle.Record(s, Accepted(1, 100, t), t);
        s = WindowLifecycle.Record(s, Persisted(1, 90, t), t);
        s = Ask(s, t);
        s = WindowLifecycle.Record(s, Persisted(2, 90, t), t);
        Assert.Null(Drain.Decide(s.Reports, Settled, t.AddSeconds(1)));
        Assert.Equal("waiting for the ledger: accepted 100, persisted 90", Drain.Describe(s.Reports, Settled));

        s = Ask(s, t.AddSeconds(2));
        s = WindowLifecycle.Record(s, Persisted(3, 100, t.AddSeconds(2)), t.AddSeconds(2));
        Assert.Null(Drain.Decide(s.Reports, Settled, t.AddSeconds(3)));

        s = Ask(s, t.AddSeconds(4));
        s = WindowLifecycle.Record(s, Persisted(4, 100, t.AddSeconds(4)), t.AddSeconds(4));
        var done = Drain.Decide(s.Reports, Settled, t.AddSeconds(5));
        Assert.Equal((100L, 100L, t.AddSeconds(5)), (done!.Accepted, done.Persisted, done.At));
        Assert.Empty(done.Unconfirmed!);
    }

    [Fact]
    public void Drain_MorePersistedThanAcceptedOnceQuiet_IsDrainedAndSaysWhy()
    {
        var s = DrainedWindow(accepted: 50, persisted: 52);

        Assert.Equal((50L, 52L), (s.Drained!.Accepted, s.Drained.Persisted));
        Assert.Contains("2 reached the broker without their 202", s.History[^1].Outcome, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_StaleDuplicateOrOutOfPhaseReports_ChangeNothing()
    {
        var s = WindowLifecycle.Create(Def, T0);
        Assert.Same(s, WindowLifecycle.Record(s, Accepted(1, 5, T0), T0));

        s = ClosedWindow();
        var t = Def.ClosesAt.AddSeconds(40);
        for (var i = 0; i < 3; i++)
        {
            s = Ask(s, t.AddSeconds(i * 10)); // three count requests: #1, #2, #3
        }

        s = WindowLifecycle.Record(s, Accepted(3, 5, t), t);
        Assert.Same(s, WindowLifecycle.Record(s, Accepted(2, 9, t), t));
        s = WindowLifecycle.Record(s, Persisted(3, 5, t), t);
        Assert.Same(s, WindowLifecycle.Record(s, Persisted(3, 5, t), t));
    }

    [Fact]
    public void Record_AReportForARequestNotMadeYet_IsIgnored_SoAForgedHugeSeqCannotBlockTheRealOnes()
    {
        var t = Def.ClosesAt.AddSeconds(40);
        var s = Ask(ClosedWindow(), t); // count request #1

        Assert.Same(s, WindowLifecycle.Record(s, Accepted(long.MaxValue / 2, 999_999, t), t));
        Assert.Same(s, WindowLifecycle.Record(s, Persisted(5, 999_999, t), t));
        Assert.Equal(7, WindowLifecycle.Record(s, Accepted(1, 7, t), t).Reports.Accepted!.Count);
    }

    [Fact]
    public void Audit_AnswerWithBadDigestOrOtherNumbers_IsRefused_AndTheRightOneStillAccepted()
    {
        var s = DrainedWindow(1200, 1200);
        var at = s.Drained!.At.AddSeconds(61);
        s = Ask(s, at);
        var good = Certified.For(s, 1200, 1200, 700, 480, 0);

        var forged = WindowLifecycle.Record(s, Audited(good with { Total = 1181 }, at), at, Certified.Auditor);
        var wrongDrain = WindowLifecycle.Record(s, Audited(Certified.For(s, 1100, 1100, 700, 380, 0), at), at, Certified.Auditor);

        Assert.Null(forged.AuditReport);
        Assert.Contains("digest", forged.Progress.LastError, StringComparison.Ordinal);
        Assert.Null(wrongDrain.AuditReport);
        Assert.Contains("drain established 1200 / 1200", wrongDrain.Progress.LastError, StringComparison.Ordinal);
        Assert.Equal(good, WindowLifecycle.Record(forged, Audited(good, at), at, Certified.Auditor).AuditReport);
    }

    [Fact]
    public void Audit_NotTheAuditorsOrNotForThisRequest_IsRefused_WhateverItsDigest()
    {
        var s = DrainedWindow(1200, 1200);
        var at = s.Drained!.At.AddSeconds(61);
        s = Ask(s, at);
        var good = Certified.For(s, 1200, 1200, 700, 480, 0);
        using var forger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var unsigned = good with { Signature = null, SigningKeyId = null };
        var recounted = good with { Counts = new Dictionary<string, long> { ["a"] = 0, ["b"] = 0, ["c"] = 1180 }, Winners = ["c"] };
        recounted = recounted with { Digest = CertifiedDigest.Compute(recounted) };
        var otherNonce = Certified.For(Def, "someone-else", 1200, 1200, 0, 700, 480, 0);
        var early = good with { AuditedAt = Def.ClosesAt.AddSeconds(-1) };
        early = AuditSignature.Sign(early with { Digest = CertifiedDigest.Compute(early) }, Certified.Auditor);

        string? Refusal(CertifiedResult r) => WindowLifecycle.Record(s, Audited(r, at), at, Certified.Auditor) is var n && n.AuditReport is null ? n.Progress.LastError : null;

        Assert.Contains("not signed", Refusal(unsigned), StringComparison.Ordinal);
        Assert.Contains("not with the auditor's key", Refusal(AuditSignature.Sign(recounted, forger)), StringComparison.Ordinal);
        Assert.Contains("does not verify", Refusal(recounted with { Signature = good.Signature }), StringComparison.Ordinal);
        Assert.Contains("nonce", Refusal(otherNonce), StringComparison.Ordinal);
        Assert.Contains("before the window closed", Refusal(early), StringComparison.Ordinal);
        Assert.Null(Refusal(good));
    }

    [Fact]
    public void Audit_MorePersistedThanAccepted_IsAcceptedOnlyWhenIngresssUnconfirmedVotesExplainIt()
    {
        var s = DrainedWindow(50, 52, Guid.NewGuid(), Guid.NewGuid());
        Assert.Equal(2, s.Drained!.Unconfirmed!.Count);
        var at = s.Drained.At.AddSeconds(61);
        s = Ask(s, at);

        var unexplained = WindowLifecycle.Record(s, Audited(Certified.For(Def, s.AuditNonce, 50, 52, 1, 30, 20, 2), at), at, Certified.Auditor);
        var explained = WindowLifecycle.Record(s, Audited(Certified.For(Def, s.AuditNonce, 50, 52, 2, 30, 20, 2), at), at, Certified.Auditor);

        Assert.Null(unexplained.AuditReport);
        Assert.Contains("1 ledger votes are neither accepted nor among the votes ingress sent unconfirmed", unexplained.Progress.LastError, StringComparison.Ordinal);
        Assert.NotNull(explained.AuditReport);
    }

    [Fact]
    public void Payout_ReportForOtherVoters_IsRefused()
    {
        var s = DrainedWindow(1200, 1200);
        var certified = Certified.For(s, 1200, 1200, 700, 480, 0);
        s = WindowLifecycle.Complete(s with { AuditReport = certified, Certified = certified }, WindowPhase.Audited, "audited", T0.AddHours(2), null);
        var other = new RewardsPaid
        {
            EventId = Guid.NewGuid(), OccurredAt = T0.AddHours(2), WindowId = Def.WindowId, Accounts = 3, Points = 1, Entries = 1,
            LedgerHeadSeq = 1, LedgerHeadHash = new string('f', 64), VotersDigest = new string('0', 64),
        };

        var refused = WindowLifecycle.Record(s, other, T0.AddHours(2));

        Assert.Null(refused.PaidReport);
        Assert.Contains("other voters", refused.Progress.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public void Fail_EachFailureIsRecorded_AndWaitsTwiceAsLong()
    {
        var s = WindowLifecycle.Create(Def, T0);

        var first = WindowLifecycle.Fail(s, "sidecar unreachable", Def.OpensAt, Timings);
        var second = WindowLifecycle.Fail(first, "sidecar unreachable again", first.Progress.NextAttemptAt!.Value, Timings);

        Assert.Equal(Def.OpensAt.AddSeconds(1), first.Progress.NextAttemptAt);
        Assert.Equal(first.Progress.NextAttemptAt!.Value.AddSeconds(2), second.Progress.NextAttemptAt);
        Assert.Equal((2, "sidecar unreachable again"), (second.Progress.Failures, second.Progress.LastError));
        Assert.Equal(WindowPhase.Scheduled, second.Phase);
    }

    [Fact]
    public void StepByStep_HeldInEachPhaseUntilReleased_PlainWindowsNeverHeld()
    {
        var s = WindowLifecycle.Create(Def, T0, stepByStep: true);
        Assert.True(s.Held);

        var released = WindowLifecycle.Release(s);
        Assert.False(released.Held);
        var opened = WindowLifecycle.Complete(released, WindowPhase.Open, "opened", Def.OpensAt, Def.OpensAt);
        Assert.True(opened.Held);
        Assert.True(WindowLifecycle.Complete(WindowLifecycle.Release(ClosedWindow(stepByStep: true)), WindowPhase.Drained, "drained", Def.ClosesAt, null).Held);

        var plain = WindowLifecycle.Create(Def, T0);
        Assert.False(plain.Held);
        Assert.Same(plain, WindowLifecycle.Release(plain));
    }

    [Fact]
    public void Timings_PollDoublesUpToItsCap()
    {
        Assert.Equal(
            [1, 2, 4, 8, 8, 8],
            new[] { 1, 2, 3, 4, 5, 40 }.Select(n => Timings.Poll(n).TotalSeconds));
    }

    [Fact]
    public void Complete_SkippingAPhase_Throws() =>
        Assert.Throws<InvalidOperationException>(() => WindowLifecycle.Complete(WindowLifecycle.Create(Def, T0), WindowPhase.Closed, "x", T0, null));

    [Fact]
    public void Validate_GoodDefinition_HasNoErrors() => Assert.Empty(Def.Validate(T0));

    [Fact]
    public void Validate_NegativeRewards_IsReportedOnRewards()
    {
        var d = Def with { Rewards = new PayoutRules { PointsPerVote = -1 } };

        Assert.Equal(["rewards"], d.Validate(T0).Keys);
        Assert.Equal(new PayoutRules(), Def.PayoutRules);
    }

    [Theory]
    [InlineData("bad id!", "Final", "a,b", 5, 65, 10, "windowId")]
    [InlineData("w", "", "a,b", 5, 65, 10, "title")]
    [InlineData("w", "Final", "a", 5, 65, 10, "candidates")]
    [InlineData("w", "Final", "a,a", 5, 65, 10, "candidates")]
    [InlineData("w", "Final", "a,b c", 5, 65, 10, "candidates")]
    [InlineData("w", "Final", "a,b", 65, 5, 10, "closesAt")]
    [InlineData("w", "Final", "a,b", -120, -60, 10, "closesAt")]
    [InlineData("w", "Final", "a,b", 5, 65, 0, "votesPerAccount")]
    public void Validate_EachMistake_IsReportedOnItsField(string id, string title, string candidates, int opensMin, int closesMin, int quota, string field)
    {
        var d = new WindowDefinition(id, title, candidates.Split(','), T0.AddMinutes(opensMin), T0.AddMinutes(closesMin), quota);

        var errors = d.Validate(T0);

        Assert.Equal([field], errors.Keys);
        Assert.NotEmpty(errors[field][0]);
    }
}
