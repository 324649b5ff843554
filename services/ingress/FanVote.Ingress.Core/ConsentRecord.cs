using FanVote.Security;

namespace FanVote.Ingress.Core;

/// <summary>Where a minor's parent or guardian stands: asked (a passcode sent to them) or consented.</summary>
public enum GuardianState
{
    None,
    Requested,
    Granted,
}

/// <summary>One change of a fan's consent, as kept in their history: when, through what, which purpose, given or withdrawn, under which version.</summary>
public sealed record ConsentChange(DateTimeOffset At, string Source, string What, bool Granted, string Version);

/// <summary>
/// What ingress holds about a fan's consent: each purpose's latest choice and when it was made, the birth year given
/// at passcode sign-up, the guardian's consent and a keyed hash of the contact their passcode went to ("" when none was
/// asked). The session token carries only what it amounts to (<see cref="Standing"/>).
/// </summary>
public sealed record ConsentRecord(IReadOnlyList<PurposeChoice> Choices, IReadOnlyDictionary<Purposes, DateTimeOffset> ChosenAt, int? BirthYear, GuardianState Guardian, DateTimeOffset? GuardianAt, string GuardianContactHash)
{
    public static readonly ConsentRecord Empty = new([], new Dictionary<Purposes, DateTimeOffset>(), null, GuardianState.None, null, "");

    /// <summary>The fan's age band: guests have none (they never give a birth year).</summary>
    public AgeBand AgeFor(SessionKind kind, PrivacyPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return kind == SessionKind.Guest ? AgeBand.Unknown : policy.BandOf(BirthYear, now);
    }

    /// <summary>What the session token carries: the purposes in effect under the current terms and rules, and the age band.</summary>
    public FanConsent Standing(SessionKind kind, PrivacyPolicy policy, DateTimeOffset now)
    {
        var age = AgeFor(kind, policy, now);
        return new FanConsent(policy.Effective(Choices, age, Guardian == GuardianState.Granted), age);
    }
}
