using System.ComponentModel.DataAnnotations;

namespace FanVote.Tally;

/// <summary>Section "Tally"; the connection string also comes from FANVOTE_PG_CONNECTION.</summary>
public sealed class TallyOptions
{
    [Required(ErrorMessage = "Set FANVOTE_PG_CONNECTION (or Tally:ConnectionString) to the PostgreSQL vote ledger's Npgsql connection string.")]
    public string ConnectionString { get; set; } = "";

    /// <summary>Largest batch the sidecar delivers (keep the pub/sub component's concurrency at least this).</summary>
    [Range(1, 10_000)]
    public int MaxBatch { get; set; } = 500;

    [Range(1, 10_000)]
    public int MaxAwaitMs { get; set; } = 50;

    /// <summary>How often changed counts are published to tally-updated.</summary>
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Unchanged counts of recently active windows are published again this often.</summary>
    public TimeSpan RepublishEvery { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A window counts as recently active this long after its last vote.</summary>
    public TimeSpan ActiveFor { get; set; } = TimeSpan.FromMinutes(30);
}
