using FanVote.Certification;
using FanVote.Contracts.Events;

namespace FanVote.Workflows.Tests;

public sealed class WindowWorkflowTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 20, 0, 0, TimeSpan.Zero);
    private static readonly WindowDefinition Def = new("final-1", "Grand final", ["a", "b", "c"], T0.AddMinutes(5), T0.AddMinutes(65), 10);
    private static readonly LifecycleTimings Timings = new()
    {
        AcceptSettle = TimeSpan.FromSeconds(30), FlagGrace = TimeSpan.FromSeconds(60), PollInitial = TimeSpan.FromSeconds(1), PollMax = TimeSpan.FromSeconds(8),
    };

    private readonly ManualTime _time = new(T0);
    private readonly RecordingPorts _ports = new();
    private readonly WindowWorkflow _workflow;

    public WindowWorkflowTests()
    {
        _workflow = new WindowWorkflow(
            new OpenWindowActivity(_ports, _time), new CloseWindowActivity(_ports, _time), new AwaitPersistenceActivity(_ports, Timings, _time),
            new AuditWindowActivity(_ports, _ports, Timings, _time), new PayRewardsActivity(_ports, Timings, _time), new CompleteWindowActivity(_ports, _time),
            Timings, _time);
    }

    private async Task<WorkflowStep> StepAt(WindowState s, DateTimeOffset at)
    {
        _time.Now = at;
        return await _workflow.StepAsync(s, CancellationToken.None);
    }

    private static AcceptedVotesReported Accepted(long seq, long n, DateTimeOffset at, params Guid[] unconfirmed) =>
        new() { EventId = Guid.NewGuid(), OccurredAt = at, WindowId = Def.WindowId, Seq = seq, Accepted = n, Unconfirmed = unconfirmed };

    private static WindowAudited Audited(CertifiedResult r, DateTimeOffset at) => new() { EventId = Guid.NewGuid(), OccurredAt = at, WindowId = r.WindowId, Result = r };

    private static PersistedVotesReported Persisted(long seq, long n, DateTimeOffset at) =>
        new() { EventId = Guid.NewGuid(), OccurredAt = at, WindowId = Def.WindowId, Seq = seq, Persisted = n };

    private async Task<WindowState> ClosedWindowAsync()
    {
        var s = WindowLifecycle.Create(Def, T0);
        s = (await StepAt(s, Def.OpensAt)).State;
        return (await StepAt(s, Def.ClosesAt)).State;
    }

    private async Task<WindowState> DrainedWindowAsync(long accepted, long persisted)
    {
        var s = await ClosedWindowAsync();
        var settled = Def.ClosesAt.AddSeconds(30);
        s = (await StepAt(s, settled)).State;
        s = WindowLifecycle.Record(s, Accepted(1, accepted, settled), settled);
        s = WindowLifecycle.Record(s, Persisted(1, persisted, settled), settled);
        s = (await StepAt(s, settled.AddSeconds(1))).State;
        s = WindowLifecycle.Record(s, Persisted(2, persisted, settled.AddSeconds(1)), settled.AddSeconds(1));
        s = (await StepAt(s, settled.AddSeconds(2))).State;
        Assert.Equal(WindowPhase.Drained, s.Phase);
        return s;
    }

    [Fact]
    public async Task Lifecycle_ScheduledToCompleted_EachFactOnce_EachStepTimedAndDescribed()
    {
        var s = WindowLifecycle.Create(Def, T0);

        var early = await StepAt(s, T0.AddMinutes(1));
        Assert.Equal(WindowPhase.Scheduled, early.State.Phase);
        Assert.Equal(Def.OpensAt, early.WakeAt);

        s = await DrainedWindowAsync(1200, 1200);
        var flagsIn = s.Drained!.At.AddSeconds(60);
        var waiting = await StepAt(s, s.Drained.At.AddSeconds(5));
        Assert.Equal(flagsIn, waiting.WakeAt);
        Assert.Contains("fraud flags", waiting.State.Progress.Waiting, StringComparison.Ordinal);

        s = (await StepAt(waiting.State, flagsIn)).State;
        var certified = Certified.For(s, 1200, 1200, 700, 480, 0);
        s = WindowLifecycle.Record(s, Audited(certified, flagsIn), flagsIn, Certified.Auditor);
        s = (await StepAt(s, flagsIn.AddSeconds(1))).State;
        Assert.Equal(WindowPhase.Audited, s.Phase);
        Assert.Equal(certified, s.Certified);

        s = (await StepAt(s, flagsIn.AddSeconds(1))).State;
        s = WindowLifecycle.Record(s, new RewardsPaid
        {
            EventId = Guid.NewGuid(), OccurredAt = flagsIn, WindowId = Def.WindowId, Accounts = 3, Points = 11930, Entries = 5,
            LedgerHeadSeq = 5, LedgerHeadHash = new string('f', 64), VotersDigest = certified.VotersDigest,
        }, flagsIn.AddSeconds(2));
        s = (await StepAt(s, flagsIn.AddSeconds(2))).State;
        var last = await StepAt(s, flagsIn.AddSeconds(3));

        Assert.Equal(WindowPhase.Completed, last.State.Phase);
        Assert.Null(last.WakeAt);
        Assert.Equal(
            [WindowPhase.Scheduled, WindowPhase.Open, WindowPhase.Closed, WindowPhase.Drained, WindowPhase.Audited, WindowPhase.PaidOut, WindowPhase.Completed],
            last.State.History.Select(h => h.Phase));
        Assert.StartsWith("paid: 11930 points to 3 accounts", last.State.History[^2].Outcome, StringComparison.Ordinal);
        var facts = _ports.Calls.Where(c => !c.Contains('?', StringComparison.Ordinal)).ToList();
        Assert.Equal(["opened final-1", "closed final-1", $"certified final-1 {certified.Digest}", "completed final-1"], facts);
        Assert.Contains("payout? final-1 #1 10/50", _ports.Calls);
        Assert.Null((await StepAt(last.State, flagsIn.AddHours(1))).WakeAt);
    }

    [Fact]
    public async Task Open_ThenWaitsForTheCloseTime_AndClosesAtIt()
    {
        var s = (await StepAt(WindowLifecycle.Create(Def, T0), Def.OpensAt)).State;

        var open = await StepAt(s, Def.OpensAt.AddMinutes(1));
        var closed = await StepAt(open.State, Def.ClosesAt);

        Assert.Equal(WindowPhase.Open, open.State.Phase);
        Assert.Equal(Def.ClosesAt, open.WakeAt);
        Assert.Equal(WindowPhase.Closed, closed.State.Phase);
        Assert.Equal(["opened final-1", "closed final-1"], _ports.Calls);
    }

    [Fact]
    public async Task Drain_BeforeTheSettleTime_NeitherAsksNorFinishes_CountsTakenEarlierDoNotCount()
    {
        var s = await ClosedWindowAsync();
        var settled = Def.ClosesAt.AddSeconds(30);

        var early = await StepAt(s, Def.ClosesAt.AddSeconds(10));
        Assert.Equal(settled, early.WakeAt);
        Assert.DoesNotContain(_ports.Calls, c => c.StartsWith("counts?", StringComparison.Ordinal));

        s = (await StepAt(early.State, settled)).State;
        s = WindowLifecycle.Record(s, Accepted(1, 10, settled.AddSeconds(-1)), settled);
        s = WindowLifecycle.Record(s, Persisted(1, 10, settled.AddSeconds(-1)), settled);
        s = WindowLifecycle.Record(s, Persisted(2, 10, settled.AddSeconds(-1)), settled);
        var step = await StepAt(s, settled.AddSeconds(1));

        Assert.Equal(WindowPhase.Closed, step.State.Phase);
        Assert.Contains("counts? final-1 #2", _ports.Calls);
    }

    [Fact]
    public async Task Drain_PersistedBehindOrStillMoving_KeepsAskingWithGrowingWaits()
    {
        var s = await ClosedWindowAsync();
        var t = Def.ClosesAt.AddSeconds(30);
        s = (await StepAt(s, t)).State;
        s = WindowLifecycle.Record(s, Accepted(1, 100, t), t);
        s = WindowLifecycle.Record(s, Persisted(1, 90, t), t);
        s = WindowLifecycle.Record(s, Persisted(2, 90, t), t);
        var behind = await StepAt(s, t.AddSeconds(1));
        Assert.Equal(WindowPhase.Closed, behind.State.Phase);
        Assert.Equal(t.AddSeconds(1 + 2), behind.WakeAt);
        Assert.Contains("accepted 100, persisted 90", behind.State.Progress.Waiting, StringComparison.Ordinal);

        s = WindowLifecycle.Record(behind.State, Persisted(3, 100, t.AddSeconds(2)), t.AddSeconds(2));
        var moving = await StepAt(s, t.AddSeconds(3));
        Assert.Equal(WindowPhase.Closed, moving.State.Phase);

        s = WindowLifecycle.Record(moving.State, Persisted(4, 100, t.AddSeconds(4)), t.AddSeconds(4));
        var done = await StepAt(s, t.AddSeconds(5));
        Assert.Equal(WindowPhase.Drained, done.State.Phase);
        Assert.Equal((100L, 100L, t.AddSeconds(5)), (done.State.Drained!.Accepted, done.State.Drained.Persisted, done.State.Drained.At));
        Assert.Empty(done.State.Drained.Unconfirmed!);
        Assert.Equal("drained: 100 accepted = 100 persisted", done.State.History[^1].Outcome);
    }

    [Fact]
    public async Task Drain_MorePersistedThanAcceptedOnceQuiet_IsDrainedAndSaysWhy()
    {
        var s = await DrainedWindowAsync(accepted: 50, persisted: 52);

        Assert.Equal((50L, 52L), (s.Drained!.Accepted, s.Drained.Persisted));
        Assert.Contains("2 reached the broker without their 202", s.History[^1].Outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Record_StaleDuplicateOrOutOfPhaseReports_ChangeNothing()
    {
        var s = WindowLifecycle.Create(Def, T0);
        Assert.Same(s, WindowLifecycle.Record(s, Accepted(1, 5, T0), T0));

        s = await ClosedWindowAsync();
        var t = Def.ClosesAt.AddSeconds(40);
        for (var i = 0; i < 3; i++)
        {
            s = (await StepAt(s, t.AddSeconds(i * 10))).State; // three count requests: #1, #2, #3
        }

        s = WindowLifecycle.Record(s, Accepted(3, 5, t), t);
        Assert.Same(s, WindowLifecycle.Record(s, Accepted(2, 9, t), t));
        s = WindowLifecycle.Record(s, Persisted(3, 5, t), t);
        Assert.Same(s, WindowLifecycle.Record(s, Persisted(3, 5, t), t));
    }

    [Fact]
    public async Task Record_AReportForARequestNotMadeYet_IsIgnored_SoAForgedHugeSeqCannotBlockTheRealOnes()
    {
        var s = await ClosedWindowAsync();
        var t = Def.ClosesAt.AddSeconds(40);
        s = (await StepAt(s, t)).State; // count request #1

        Assert.Same(s, WindowLifecycle.Record(s, Accepted(long.MaxValue / 2, 999_999, t), t));
        Assert.Same(s, WindowLifecycle.Record(s, Persisted(5, 999_999, t), t));
        Assert.Equal(7, WindowLifecycle.Record(s, Accepted(1, 7, t), t).Reports.Accepted!.Count);
    }

    [Fact]
    public async Task Audit_AnswerWithBadDigestOrOtherNumbers_IsRefusedAndAskedAgain()
    {
        var s = await DrainedWindowAsync(1200, 1200);
        var at = s.Drained!.At.AddSeconds(61);
        s = (await StepAt(s, at)).State;
        var good = Certified.For(s, 1200, 1200, 700, 480, 0);

        var forged = WindowLifecycle.Record(s, Audited(good with { Total = 1181 }, at), at, Certified.Auditor);
        var wrongDrain = WindowLifecycle.Record(s, Audited(Certified.For(s, 1100, 1100, 700, 380, 0), at), at, Certified.Auditor);

        Assert.Null(forged.AuditReport);
        Assert.Contains("digest", forged.Progress.LastError, StringComparison.Ordinal);
        Assert.Null(wrongDrain.AuditReport);
        Assert.Contains("drain established 1200 / 1200", wrongDrain.Progress.LastError, StringComparison.Ordinal);
        var again = await StepAt(forged, forged.Progress.NextAttemptAt!.Value);
        Assert.Equal(WindowPhase.Drained, again.State.Phase);
        Assert.Contains($"audit? final-1 #2 accepted 1200 unconfirmed 0 nonce {s.AuditNonce}", _ports.Calls);
    }

    [Fact]
    public async Task Audit_NotTheAuditorsOrNotForThisRequest_IsRefused_WhateverItsDigest()
    {
        var s = await DrainedWindowAsync(1200, 1200);
        var at = s.Drained!.At.AddSeconds(61);
        s = (await StepAt(s, at)).State;
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
    public async Task Audit_MorePersistedThanAccepted_IsAcceptedOnlyWhenIngresssUnconfirmedVotesExplainIt()
    {
        var s = await ClosedWindowAsync();
        var settled = Def.ClosesAt.AddSeconds(30);
        s = (await StepAt(s, settled)).State;
        s = WindowLifecycle.Record(s, Accepted(1, 50, settled, Guid.NewGuid(), Guid.NewGuid()), settled);
        s = WindowLifecycle.Record(s, Persisted(1, 52, settled), settled);
        s = (await StepAt(s, settled.AddSeconds(1))).State;
        s = WindowLifecycle.Record(s, Persisted(2, 52, settled.AddSeconds(1)), settled.AddSeconds(1));
        s = (await StepAt(s, settled.AddSeconds(2))).State;
        Assert.Equal(2, s.Drained!.Unconfirmed!.Count);
        var at = s.Drained.At.AddSeconds(61);
        s = (await StepAt(s, at)).State;
        Assert.Contains($"audit? final-1 #1 accepted 50 unconfirmed 2 nonce {s.AuditNonce}", _ports.Calls);

        var unexplained = WindowLifecycle.Record(s, Audited(Certified.For(Def, s.AuditNonce, 50, 52, 1, 30, 20, 2), at), at, Certified.Auditor);
        var explained = WindowLifecycle.Record(s, Audited(Certified.For(Def, s.AuditNonce, 50, 52, 2, 30, 20, 2), at), at, Certified.Auditor);

        Assert.Null(unexplained.AuditReport);
        Assert.Contains("1 ledger votes are neither accepted nor among the votes ingress sent unconfirmed", unexplained.Progress.LastError, StringComparison.Ordinal);
        Assert.NotNull(explained.AuditReport);
    }

    [Fact]
    public async Task Step_PortFails_RetriesWithBackoff_ThenSucceeds()
    {
        var s = WindowLifecycle.Create(Def, T0);
        _ports.FailNext = 2;

        var first = await StepAt(s, Def.OpensAt);
        var second = await StepAt(first.State, first.WakeAt!.Value);
        var third = await StepAt(second.State, second.WakeAt!.Value);

        Assert.Equal(Def.OpensAt.AddSeconds(1), first.WakeAt);
        Assert.Equal(first.WakeAt!.Value.AddSeconds(2), second.WakeAt);
        Assert.Contains("sidecar unreachable", second.State.Progress.LastError, StringComparison.Ordinal);
        Assert.Equal(WindowPhase.Open, third.State.Phase);
        Assert.Equal(["opened final-1"], _ports.Calls);
    }

    [Fact]
    public async Task Step_RunAgainFromTheStateBeforeItsSave_RepeatsTheSameFactOnly()
    {
        // A crash after the effect and before the save: the driver runs the same step from the old state.
        var s = WindowLifecycle.Create(Def, T0);

        var once = await StepAt(s, Def.OpensAt);
        var again = await StepAt(s, Def.OpensAt.AddSeconds(3));

        Assert.Equal(once.State.Phase, again.State.Phase);
        Assert.Equal(["opened final-1", "opened final-1"], _ports.Calls);
    }

    [Fact]
    public async Task StepByStep_EachStepWaitsForAGo_AndRunsOnceAfterIt()
    {
        var s = WindowLifecycle.Create(Def, T0, stepByStep: true);

        var held = await StepAt(s, Def.OpensAt);
        Assert.True(held.State.Held);
        Assert.Null(held.WakeAt);
        Assert.Empty(_ports.Calls);

        var opened = await StepAt(WindowLifecycle.Release(held.State), Def.OpensAt);
        Assert.Equal(WindowPhase.Open, opened.State.Phase);
        Assert.True(opened.State.Held);
        Assert.Null((await StepAt(opened.State, Def.ClosesAt)).WakeAt);
        Assert.Equal(["opened final-1"], _ports.Calls);

        var plain = WindowLifecycle.Create(Def, T0);
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
