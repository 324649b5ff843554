using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using FanVote.Certification;
using FanVote.Contracts.Events;

namespace FanVote.Workflows;

/// <summary>
/// Where a window is: the last step it completed. Each phase but the last has one step that leads out of it
/// (Scheduled → open, Open → close, Closed → drain, Drained → audit, Audited → payout, PaidOut → complete); the
/// orchestrator's window workflow runs them.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<WindowPhase>))]
public enum WindowPhase
{
    Scheduled,
    Open,
    Closed,
    Drained,
    Audited,
    PaidOut,
    Completed,
}

/// <summary>One step the window went through, with when and what happened.</summary>
public sealed record StepRecord(WindowPhase Phase, DateTimeOffset At, string Outcome);

/// <summary>
/// The step under way (the one leading out of the current phase): how often it ran, what it waits for, its last
/// error, and when it runs next. A step that failed waits longer after each failure.
/// </summary>
public sealed record StepProgress(int Attempts, int Failures, DateTimeOffset? LastAttemptAt, DateTimeOffset? NextAttemptAt, string? Waiting, string? LastError)
{
    public static StepProgress Due(DateTimeOffset? at) => new(0, 0, null, at, null, null);
}

/// <summary>
/// A count a service reported, as of its own clock; ingress's also names the votes it sent without confirmation
/// (<see cref="AcceptedVotesReported.Unconfirmed"/>).
/// </summary>
public sealed record CountReport(long Seq, long Count, DateTimeOffset At, IReadOnlyList<Guid>? Unconfirmed = null, bool UnconfirmedTruncated = false);

/// <summary>What the drain has heard: ingress's newest accepted count and tally's two newest persisted counts.</summary>
public sealed record DrainReports(CountReport? Accepted, IReadOnlyList<CountReport> Persisted)
{
    public static DrainReports None { get; } = new(null, []);
}

/// <summary>
/// The drain's result: every accepted vote is in the ledger. <see cref="Unconfirmed"/>: the votes ingress sent without
/// confirming them (the audit checks which of them are in the ledger: only those may make it hold more than accepted).
/// </summary>
public sealed record DrainOutcome(long Accepted, long Persisted, DateTimeOffset At, IReadOnlyList<Guid>? Unconfirmed = null, bool UnconfirmedTruncated = false);

/// <summary>What rewards reported when the payout was committed.</summary>
public sealed record PayoutOutcome(long Accounts, long Points, long Entries, long LedgerHeadSeq, string LedgerHeadHash, DateTimeOffset At);

/// <summary>
/// The whole persisted state of one window. In step-by-step mode (<see cref="StepByStep"/>) every step waits for an
/// operator's go (<see cref="Released"/>) before it starts: for rehearsals, for reviewing an audit before the payout,
/// and for fault tests that stop a process in every phase.
/// </summary>
public sealed record WindowState(
    WindowDefinition Definition,
    WindowPhase Phase,
    IReadOnlyList<StepRecord> History,
    StepProgress Progress,
    DrainReports Reports,
    DrainOutcome? Drained = null,
    CertifiedResult? AuditReport = null,
    CertifiedResult? Certified = null,
    RewardsPaid? PaidReport = null,
    PayoutOutcome? Paid = null,
    bool StepByStep = false,
    bool Released = false,
    string AuditNonce = "")
{
    /// <summary>Waiting for an operator's go before the next step.</summary>
    public bool Held => StepByStep && !Released && Phase != WindowPhase.Completed;
}

/// <summary>
/// The lifecycle's pure transitions: (state, what happened, now) → new state. Nothing here does I/O; the
/// workflow's activities do, and the workflow feeds their results and the services' reports in. Reports from services are recorded
/// with <see cref="Record(WindowState, AcceptedVotesReported)"/> and its overloads; a report that does not apply
/// to the current step (late, duplicate, another phase) leaves the state as it was.
/// </summary>
public static class WindowLifecycle
{
    /// <summary>
    /// A new window. The audit nonce is made once, with the window, and kept with it: every audit request of the window
    /// carries the same one (tally keeps the first audit), and only an audit answering it is accepted. Workflow code
    /// passes the nonce an activity made (it must not draw random numbers itself: replays would differ).
    /// </summary>
    public static WindowState Create(WindowDefinition definition, DateTimeOffset now, bool stepByStep = false, string? auditNonce = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new WindowState(definition, WindowPhase.Scheduled, [new StepRecord(WindowPhase.Scheduled, now, "created")],
            StepProgress.Due(definition.OpensAt), DrainReports.None, StepByStep: stepByStep,
            AuditNonce: auditNonce ?? NewAuditNonce());
    }

    /// <summary>A fresh audit nonce (128 random bits, hex).</summary>
    public static string NewAuditNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>An operator's go for a held window: its next step may start. Unchanged when it is not held.</summary>
    public static WindowState Release(WindowState s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.Held ? s with { Released = true } : s;
    }

    /// <summary>The step out of <paramref name="s"/>'s phase finished: move on, record it, and make the next step due.</summary>
    public static WindowState Complete(WindowState s, WindowPhase next, string outcome, DateTimeOffset now, DateTimeOffset? nextDue)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (next != s.Phase + 1)
        {
            throw new InvalidOperationException($"a window in {s.Phase} cannot move to {next}");
        }

        return s with
        {
            Phase = next,
            History = [.. s.History, new StepRecord(next, now, outcome)],
            Released = false,
            Progress = next == WindowPhase.Completed ? StepProgress.Due(null) : StepProgress.Due(nextDue ?? now),
        };
    }

    /// <summary>The step ran and must wait: for a time, or for a report (then it is woken earlier).</summary>
    public static WindowState Wait(WindowState s, string waiting, DateTimeOffset until, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(s);
        var p = s.Progress;
        return s with { Progress = p with { Attempts = p.Attempts + 1, LastAttemptAt = now, NextAttemptAt = until, Waiting = waiting } };
    }

    /// <summary>The step threw: retry after an exponential backoff.</summary>
    public static WindowState Fail(WindowState s, string error, DateTimeOffset now, LifecycleTimings timings)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(timings);
        var p = s.Progress;
        var failures = p.Failures + 1;
        return s with
        {
            Progress = p with
            {
                Attempts = p.Attempts + 1, Failures = failures, LastAttemptAt = now, LastError = error,
                NextAttemptAt = now + timings.Backoff(failures),
            },
        };
    }

    public static WindowState Record(WindowState s, AcceptedVotesReported r, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(r);
        if (s.Phase != WindowPhase.Closed || (s.Reports.Accepted is { } old && old.Seq >= r.Seq) || !Asked(s, r.Seq))
        {
            return s;
        }

        return Wake(s with { Reports = s.Reports with { Accepted = new CountReport(r.Seq, r.Accepted, r.OccurredAt, r.Unconfirmed, r.UnconfirmedTruncated) } }, now);
    }

    public static WindowState Record(WindowState s, PersistedVotesReported r, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(r);
        if (s.Phase != WindowPhase.Closed || s.Reports.Persisted.Any(p => p.Seq >= r.Seq) || !Asked(s, r.Seq))
        {
            return s;
        }

        var persisted = s.Reports.Persisted.Append(new CountReport(r.Seq, r.Persisted, r.OccurredAt)).TakeLast(2).ToList();
        return Wake(s with { Reports = s.Reports with { Persisted = persisted } }, now);
    }

    /// <summary>
    /// Keeps tally's audit answer if it is the auditor's signed answer to this window's request and a consistent result;
    /// otherwise notes why it was refused.
    /// </summary>
    public static WindowState Record(WindowState s, WindowAudited r, DateTimeOffset now, ECDsa auditorKey)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(auditorKey);
        if (s.Phase != WindowPhase.Drained || s.AuditReport is not null)
        {
            return s;
        }

        var problem = r.WindowId != r.Result.WindowId ? "the report and its result name different windows" : AuditProblem(s, r.Result, auditorKey);
        return problem is null
            ? Wake(s with { AuditReport = r.Result }, now)
            : s with { Progress = s.Progress with { LastError = "audit answer refused: " + problem } };
    }

    public static WindowState Record(WindowState s, RewardsPaid r, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(r);
        if (s.Phase != WindowPhase.Audited || s.PaidReport is not null || s.Certified is null)
        {
            return s;
        }

        return r.VotersDigest == s.Certified.VotersDigest
            ? Wake(s with { PaidReport = r }, now)
            : s with { Progress = s.Progress with { LastError = "payout report refused: it was made for other voters (voters digest differs)" } };
    }

    /// <summary>Why a certified result cannot be accepted for this window, or null when it can.</summary>
    public static string? AuditProblem(WindowState s, CertifiedResult r, ECDsa auditorKey)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(r);
        var d = s.Definition;
        if (r.WindowId != d.WindowId || !r.Candidates.SequenceEqual(d.Candidates))
        {
            return "it is for another window or candidate list";
        }

        if (AuditSignature.Problem(r, auditorKey) is { } signature)
        {
            return signature;
        }

        if (string.IsNullOrEmpty(s.AuditNonce) || r.AuditNonce != s.AuditNonce)
        {
            return "it answers another audit request than this window's (nonce)";
        }

        if (r.AuditedAt < d.ClosesAt)
        {
            return $"it was made at {r.AuditedAt:u}, before the window closed at {d.ClosesAt:u}";
        }

        if (r.Counts.Values.Sum() != r.Total || r.LeafCount != r.Total || r.Total + r.Excluded != r.Persisted)
        {
            return $"its figures do not add up (total {r.Total}, leaves {r.LeafCount}, excluded {r.Excluded}, persisted {r.Persisted})";
        }

        if (s.Drained is { } drained && (r.Accepted != drained.Accepted || r.Persisted < drained.Persisted))
        {
            return $"it saw {r.Persisted} persisted / {r.Accepted} accepted votes, but the drain established {drained.Persisted} / {drained.Accepted}";
        }

        // Every ledger vote is explained: accepted (202), or sent by ingress without a confirmation (503) that landed.
        if (r.Persisted != r.Accepted + r.Unconfirmed)
        {
            var truncated = s.Drained?.UnconfirmedTruncated == true
                ? string.Create(CultureInfo.InvariantCulture, $"; ingress reported only the first {AcceptedVotesReported.MaxUnconfirmed} unconfirmed votes")
                : "";
            return r.Persisted > r.Accepted + r.Unconfirmed
                ? string.Create(CultureInfo.InvariantCulture,
                    $"{r.Persisted - r.Accepted - r.Unconfirmed} ledger votes are neither accepted nor among the votes ingress sent unconfirmed ({r.Persisted} persisted, {r.Accepted} accepted, {r.Unconfirmed} unconfirmed){truncated}: an operator must find where they came from")
                : string.Create(CultureInfo.InvariantCulture,
                    $"{r.Accepted + r.Unconfirmed - r.Persisted} accepted votes are missing from the ledger ({r.Persisted} persisted, {r.Accepted} accepted, {r.Unconfirmed} unconfirmed)");
        }

        return null;
    }

    /// <summary>A report answers a request this window made (its seq is at most the step's next attempt): a report from the future is not one.</summary>
    private static bool Asked(WindowState s, long seq) => seq >= 1 && seq <= s.Progress.Attempts + 1;

    /// <summary>The history line of a finished drain.</summary>
    public static string Describe(DrainOutcome d) =>
        d.Persisted == d.Accepted
            ? string.Create(CultureInfo.InvariantCulture, $"drained: {d.Accepted} accepted = {d.Persisted} persisted")
            : string.Create(CultureInfo.InvariantCulture, $"drained: {d.Accepted} accepted, {d.Persisted} persisted ({d.Persisted - d.Accepted} reached the broker without their 202)");

    private static WindowState Wake(WindowState s, DateTimeOffset now) =>
        s with { Progress = s.Progress with { NextAttemptAt = now } };
}
