using FanVote.Contracts;

namespace FanVote.Fraud.Core;

/// <summary>
/// Why a vote the model scored as suspect looks suspect, in words an operator can check: fixed rules over the same
/// features. They never decide (the model's score does); they name the pattern and choose the subject: a device
/// farm is about the device (every account on it), everything else about the account. IP prefixes are never the
/// subject of a verdict: carrier-grade NAT and venue Wi-Fi put thousands of real fans behind one prefix.
/// </summary>
public static class RiskReasons
{
    public const string DeviceFarm = "device-farm";
    public const string Metronome = "metronome";
    public const string IpRotation = "ip-rotation";
    public const string DeviceRotation = "device-rotation";
    public const string FreshAccountBurst = "fresh-account-burst";
    public const string Velocity = "velocity";
    public const string Lockstep = "lockstep-group";
    public const string CreatedTogether = "created-together";
    public const string Anomalous = "anomalous-velocity";

    /// <summary>Every code this class can give (metrics are tagged with them).</summary>
    public static IReadOnlyList<string> All { get; } =
        [DeviceFarm, Metronome, IpRotation, DeviceRotation, FreshAccountBurst, Velocity, Lockstep, CreatedTogether, Anomalous];

    private static readonly float FreshAgeLog = (float)Math.Log(1 + 60.0); // an hour, in the feature's units

    /// <summary>A (2-second) lockstep key shared by at least this many accounts names the group (with <see cref="IsLockstep"/>'s share).</summary>
    public const int LockstepAccounts = 8;

    /// <summary>Accounts for one candidate created in the same 2 minutes, from which the cohort is named.</summary>
    public const int CohortAccounts = 20;

    private static readonly float CohortLog = (float)Math.Log(1 + CohortAccounts);

    public static IReadOnlyList<string> Explain(ReadOnlySpan<float> f)
    {
        var reasons = new List<string>(2);
        if (f[FeatureSchema.DevAccounts10m] >= 5)
        {
            reasons.Add(DeviceFarm);
        }

        if ((f[FeatureSchema.AcctGapCount] >= 4 && f[FeatureSchema.AcctGapCv] < 0.15f) ||
            (f[FeatureSchema.DevGapCount] >= 4 && f[FeatureSchema.DevGapCv] < 0.15f))
        {
            reasons.Add(Metronome);
        }

        if (f[FeatureSchema.AcctIpPrefixes10m] >= 3)
        {
            reasons.Add(IpRotation);
        }

        if (f[FeatureSchema.AcctDevices10m] >= 3)
        {
            reasons.Add(DeviceRotation);
        }

        if (f[FeatureSchema.AccountAgeLog] < FreshAgeLog && f[FeatureSchema.IpFreshAccountShare] >= 0.5f && f[FeatureSchema.IpAccounts10m] >= 5)
        {
            reasons.Add(FreshAccountBurst);
        }

        if (f[FeatureSchema.AcctVotes10s] >= 8 || f[FeatureSchema.DevVotes10s] >= 15)
        {
            reasons.Add(Velocity);
        }

        if (IsLockstep(f))
        {
            reasons.Add(Lockstep);
        }

        if (f[FeatureSchema.GrpCohort] >= CohortLog)
        {
            reasons.Add(CreatedTogether);
        }

        if (reasons.Count == 0)
        {
            reasons.Add(Anomalous);
        }

        return reasons;
    }

    /// <summary>
    /// A group that stands out from the crowd it acts in: at least <see cref="LockstepAccounts"/> accounts share the
    /// account's (2-second) lockstep key, and they are at least a quarter of everybody starting to vote for the
    /// candidate in those 8 seconds. A fandom answering the host's cue is hundreds of fans of whom a few dozen share a
    /// key by chance; a swarm is most of the accounts acting in its seconds. Not named so, and left to the model member
    /// by member: a swarm seen only in 8-second buckets (one that adds random delays), and one hiding inside a fandom's
    /// cue.
    /// </summary>
    public static bool IsLockstep(ReadOnlySpan<float> f)
    {
        var shared = Math.Exp(f[FeatureSchema.GrpLockstep]) - 1;
        return shared >= LockstepAccounts - 0.5 && f[FeatureSchema.GrpLockstepShare] >= 0.25f;
    }

    /// <summary>The subject a verdict for these reasons is about.</summary>
    public static string SubjectKindFor(IReadOnlyList<string> reasons) =>
        reasons.Contains(DeviceFarm) ? RiskSubjects.Device : RiskSubjects.Account;
}
