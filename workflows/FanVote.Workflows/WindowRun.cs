using FanVote.Contracts.Events;

namespace FanVote.Workflows;

/// <summary>
/// The input of one window's workflow (instance id = window id): the definition, whether each step waits for the
/// operator's go, and the timings, fixed when the window is created so that a replay sees the same ones.
/// </summary>
public sealed record WindowRun(WindowDefinition Definition, bool StepByStep, LifecycleTimings Timings);

/// <summary>The operator's go for a held window (event "continue"); it names the phase it releases, so a stale or repeated go is ignored.</summary>
public sealed record WindowGo(WindowPhase Phase);

/// <summary>
/// A service's answer to one of the window's requests (event "report"): exactly one of the four is set. One event name
/// for all four, so a late report of an earlier step is taken and ignored (<see cref="WindowLifecycle"/>.Record).
/// </summary>
public sealed record WindowReport(
    AcceptedVotesReported? Accepted = null,
    PersistedVotesReported? Persisted = null,
    WindowAudited? Audited = null,
    RewardsPaid? Paid = null);

/// <summary>Activity inputs (each activity is one effect; the host derives event ids from window + fact + seq).</summary>
public sealed record CountsRequest(string WindowId, long Seq);

public sealed record PayoutRequest(string WindowId, long Seq, PayoutRules Rules, CertifiedResult Certified);

public sealed record CompleteRequest(string WindowId, string Digest);

/// <summary>An audit answer to check against the window (the auditor's key is the host's, so this runs in an activity).</summary>
public sealed record AuditAnswer(WindowState State, WindowAudited Report);
