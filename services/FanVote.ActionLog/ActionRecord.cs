namespace FanVote.ActionLog;

/// <summary>
/// An operator or admin action before it joins the log. <see cref="Id"/> makes appending idempotent (the same id is
/// logged once: a retried payout report, say); <see cref="Actor"/> is who did it (an operator's name, or
/// <c>service:&lt;app id&gt;</c> for a service acting on its own); <see cref="From"/> where the call came from (the
/// connection's address, never a header a caller can set); <see cref="Outcome"/> what came of it (also refusals that
/// an operator should see, such as a conflicting definition).
/// </summary>
public sealed record ActionDraft(
    string Id, DateTimeOffset At, string Actor, string Action, string Target, string Outcome, string From, IReadOnlyDictionary<string, string> Detail);

/// <summary>
/// A row of the action log: the action, its position <see cref="Seq"/> (1, 2, 3, ...), and its place in the keyed
/// chain: <see cref="Hash"/> = HMAC-SHA256 under the action log's chain key over the content and
/// <see cref="PrevHash"/> (the previous row's hash, hex; 64 zeros for the first). Times are kept to the millisecond.
/// </summary>
public sealed record ActionRecord(
    long Seq, string Id, DateTimeOffset At, string Actor, string Action, string Target, string Outcome, string From,
    IReadOnlyDictionary<string, string> Detail, string PrevHash, string Hash);

/// <summary>The actions FanVote logs (the <see cref="ActionRecord.Action"/> values).</summary>
public static class Actions
{
    /// <summary>An operator created (or tried to redefine) a window.</summary>
    public const string WindowCreate = "window.create";

    /// <summary>An operator let a step-by-step window start its next step.</summary>
    public const string WindowContinue = "window.continue";

    /// <summary>Rewards paid a window's points out (reported by rewards, logged once per window).</summary>
    public const string WindowPayout = "window.payout";

    /// <summary>A fraud instance switched to a model version (at start or after a promotion; reported by fraud).</summary>
    public const string ModelActivate = "model.activate";

    /// <summary>An app's instance runs with a key (the first time for this key: a rotation is a new fingerprint under the same setting).</summary>
    public const string KeyInUse = "key.in-use";

    /// <summary>A fan's erasure was done by every service (logged once per request; no account or address is logged).</summary>
    public const string FanErasure = "fan.erasure";
}
