using System.ComponentModel.DataAnnotations;

namespace FanVote.Fraud;

/// <summary>Section "Fraud"; the model folder also from FANVOTE_MODEL_ROOT.</summary>
public sealed class FraudOptions
{
    /// <summary>
    /// The folder with the model versions and current.txt. Empty = the nearest ml-models/fraud above the app's folder or
    /// the working folder (the repository's, in development).
    /// </summary>
    public string ModelRoot { get; set; } = "";

    /// <summary>How often current.txt is read besides file-change events (which some file systems do not deliver).</summary>
    public TimeSpan ModelPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Range(1, 10_000)]
    public int MaxBatch { get; set; } = 500;

    /// <summary>Short: a verdict can come no sooner than the batch it is in.</summary>
    [Range(1, 10_000)]
    public int MaxAwaitMs { get; set; } = 50;

    [Range(1, 100)]
    public int MinSuspectVotes { get; set; } = 2;

    public TimeSpan SuspectWindow { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan VerdictLifetime { get; set; } = TimeSpan.FromMinutes(30);

    public TimeSpan InFlightGrace { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan ReissueAfter { get; set; } = TimeSpan.FromSeconds(5);

    [Range(1, 100)]
    public int BlockFromVerdict { get; set; } = 3;

    /// <summary>Subjects tracked per kind (accounts, devices, IP prefixes); bounds the service's memory.</summary>
    [Range(1_000, 100_000_000)]
    public int MaxSubjectsPerKind { get; set; } = 1_000_000;

    /// <summary>Counters per row of the group features' sketch (a power of two; 2 rows × 2 epochs × 2 bytes each).</summary>
    [Range(1_024, 1 << 28)]
    public int GroupSketchWidth { get; set; } = 1 << 22;

    /// <summary>Recently scored vote ids remembered, so a redelivered vote is not counted twice.</summary>
    [Range(1_000, 100_000_000)]
    public int RememberVotes { get; set; } = 500_000;

    /// <summary>Verdicts and flags waiting for the broker beyond which the oldest flags are dropped (and counted).</summary>
    [Range(100, 10_000_000)]
    public int MaxOutbox { get; set; } = 100_000;

    /// <summary>
    /// How far ahead of this service's clock a vote's time may be. A later time is taken as now + this: features and
    /// the sweeps that bound memory run on event time, and one vote stamped years ahead would otherwise forget every
    /// subject at once and put the next sweep years away (security review M9).
    /// </summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(5);
}
