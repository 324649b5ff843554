using FanVote.Contracts.Events;
using FanVote.Workflows;

namespace FanVote.Orchestrator.Lifecycle;

/// <summary>The step under way: which activity, how often it ran, what it waits for, its last error, when it runs next.</summary>
public sealed record CurrentStep(string Activity, int Attempts, int Failures, string? Waiting, string? LastError, DateTimeOffset? LastAttemptAt, DateTimeOffset? NextAttemptAt);

/// <summary>The audit report: what ingress accepted, what the ledger held, what was excluded and why, and the final count.</summary>
public sealed record AuditReport(
    long Accepted,
    long Persisted,
    long Excluded,
    IReadOnlyDictionary<string, long> ExcludedByReason,
    long Final,
    IReadOnlyDictionary<string, long> FinalCounts,
    long LiveTotal,
    bool LiveMatches,
    DateTimeOffset AuditedAt)
{
    public static AuditReport From(CertifiedResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new(r.Accepted, r.Persisted, r.Excluded, r.ExcludedByReason, r.Total, r.Counts, r.LiveTotal, r.LiveMatches, r.AuditedAt);
    }
}

/// <summary>
/// What the operator API sees of a window: its definition, phase, each step with time and outcome, and the results so far.
/// The window's workflow publishes it as its custom status after every change (and returns it when it completes).
/// </summary>
public sealed record WindowStatus(
    string WindowId,
    string Title,
    IReadOnlyList<string> Candidates,
    DateTimeOffset OpensAt,
    DateTimeOffset ClosesAt,
    int VotesPerAccount,
    PayoutRules Rewards,
    string Phase,
    bool StepByStep,
    bool Held,
    IReadOnlyList<StepRecord> Steps,
    CurrentStep? Current,
    DrainOutcome? Drain,
    AuditReport? Audit,
    CertifiedResult? Certified,
    PayoutOutcome? Payout)
{
    private static readonly string[] Activities = ["OpenWindow", "CloseWindow", "AwaitPersistence", "AuditWindow", "PayRewards", "CompleteWindow"];

    public static WindowStatus From(WindowState s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var d = s.Definition;
        var p = s.Progress;
        var current = s.Phase == WindowPhase.Completed
            ? null
            : new CurrentStep(Activities[(int)s.Phase], p.Attempts, p.Failures, p.Waiting, p.LastError, p.LastAttemptAt, p.NextAttemptAt);
        return new(d.WindowId, d.Title, d.Candidates, d.OpensAt, d.ClosesAt, d.VotesPerAccount, d.PayoutRules, s.Phase.ToString(), s.StepByStep, s.Held, s.History,
            current, s.Drained, s.Certified is null ? null : AuditReport.From(s.Certified), s.Certified, s.Paid);
    }
}
