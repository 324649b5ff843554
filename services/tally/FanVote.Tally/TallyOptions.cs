using System.ComponentModel.DataAnnotations;

namespace FanVote.Tally;

/// <summary>Section "Tally"; the connection string also comes from FANVOTE_PG_CONNECTION.</summary>
public sealed class TallyOptions
{
    [Required(ErrorMessage = "Set FANVOTE_PG_CONNECTION (or Tally:ConnectionString) to the PostgreSQL vote ledger's Npgsql connection string.")]
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// Largest batch the sidecar delivers (keep the pub/sub component's concurrency at least this). Each batch
    /// is one transaction with a fixed cost (a commit, the count upserts, a round trip), so large batches are
    /// what lets a backlog drain fast; a quiet stream still sends small batches after <see cref="MaxAwaitMs"/>.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxBatch { get; set; } = 2000;

    [Range(1, 10_000)]
    public int MaxAwaitMs { get; set; } = 50;

    /// <summary>How often changed counts are published to tally-updated.</summary>
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Unchanged counts of recently active windows are published again this often.</summary>
    public TimeSpan RepublishEvery { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A window counts as recently active this long after its last vote.</summary>
    public TimeSpan ActiveFor { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long after a window closes its votes keep the raw IP address and device id (the fraud window: late flags,
    /// disputes, abuse reports); then the retention job keeps only the address's prefix and a keyed hash of the device.
    /// </summary>
    public TimeSpan PersonalDataFor { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the retention job looks for windows (and quarantined votes) past <see cref="PersonalDataFor"/>.</summary>
    public TimeSpan RetentionEvery { get; set; } = TimeSpan.FromHours(1);
}
