namespace FanVote.Fraud.Core;

/// <summary>
/// The feature vector the model reads, in order. <see cref="Version"/> changes whenever a name is added, removed or
/// moved; a model is saved with the version it was trained on and the service refuses to load a model whose version
/// differs from this code's, so training and serving cannot drift apart.
/// </summary>
public static class FeatureSchema
{
    public const int AcctVotes10s = 0;
    public const int AcctVotes60s = 1;
    public const int AcctVotes10m = 2;
    public const int DevVotes10s = 3;
    public const int DevVotes60s = 4;
    public const int DevVotes10m = 5;
    public const int IpVotes10s = 6;
    public const int IpVotes60s = 7;
    public const int IpVotes10m = 8;
    public const int DevAccounts10m = 9;
    public const int IpAccounts10m = 10;
    public const int IpFreshAccountShare = 11;
    public const int AcctGapCv = 12;
    public const int AcctGapCount = 13;
    public const int AcctGapMeanLog = 14;
    public const int DevGapCv = 15;
    public const int DevGapCount = 16;
    public const int AcctCandidateShare = 17;
    public const int DevCandidateShare = 18;
    public const int IpCandidateShare = 19;
    public const int AcctIpPrefixes10m = 20;
    public const int AcctDevices10m = 21;
    public const int AccountAgeLog = 22;

    // The group features (GroupFeatures): log(1 + accounts, capped at 40) for grp_lockstep and grp_cohort; shares of
    // the crowd (accounts starting to vote for the candidate in the same 8 s, capped at 2) for the coarse lockstep,
    // the pair and grp_lockstep_share; episodes as a count.
    public const int GrpLockstep = 23;
    public const int GrpLockstepCoarseShare = 24;
    public const int GrpPairShare = 25;
    public const int GrpEpisodes = 26;
    public const int GrpCohort = 27;
    public const int GrpLockstepShare = 28;

    /// <summary>Length of the vector (a constant, so the model's input column can declare it).</summary>
    public const int Count = 29;

    /// <summary>Names in vector order (metrics.json and the model card list them).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "acct_votes_10s", "acct_votes_60s", "acct_votes_10m",
        "dev_votes_10s", "dev_votes_60s", "dev_votes_10m",
        "ip_votes_10s", "ip_votes_60s", "ip_votes_10m",
        "dev_accounts_10m", "ip_accounts_10m", "ip_fresh_account_share",
        "acct_gap_cv", "acct_gap_count", "acct_gap_mean_log",
        "dev_gap_cv", "dev_gap_count",
        "acct_candidate_share", "dev_candidate_share", "ip_candidate_share",
        "acct_ip_prefixes_10m", "acct_devices_10m", "account_age_log",
        "grp_lockstep", "grp_lockstep_coarse_share", "grp_pair_share", "grp_episodes", "grp_cohort", "grp_lockstep_share",
    ];

    /// <summary>Raise when the definition of a feature changes while its name stays (a name change is caught anyway).</summary>
    public const int Revision = 1;

    /// <summary>"f&lt;count&gt;-r&lt;revision&gt;-&lt;hash of the names&gt;"; stored with every model.</summary>
    public static string Version { get; } = $"f{Count}-r{Revision}-{StableHash.Of(string.Join(',', Names)):x16}";
}
