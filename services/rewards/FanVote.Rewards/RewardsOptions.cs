using System.ComponentModel.DataAnnotations;

namespace FanVote.Rewards;

/// <summary>Section "Rewards"; the connection string also comes from FANVOTE_PG_CONNECTION, fans' token keys from FANVOTE_TOKEN_KEYS (the session scheme).</summary>
public sealed class RewardsOptions
{
    [Required(ErrorMessage = "Set FANVOTE_PG_CONNECTION (or Rewards:ConnectionString) to the PostgreSQL points ledger's Npgsql connection string.")]
    public string ConnectionString { get; set; } = "";

    /// <summary>Most entries one statement page returns.</summary>
    [Range(1, 1000)]
    public int MaxStatementEntries { get; set; } = 200;
}
