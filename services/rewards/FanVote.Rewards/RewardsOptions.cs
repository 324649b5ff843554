using System.ComponentModel.DataAnnotations;

namespace FanVote.Rewards;

/// <summary>
/// Section "Rewards". The connection string also comes from FANVOTE_REWARDS_PG_CONNECTION (the restricted role; else
/// FANVOTE_PG_CONNECTION), the anchor file from FANVOTE_LEDGER_ANCHORS, the ledger key from FANVOTE_LEDGER_KEY, fans'
/// token keys from FANVOTE_TOKEN_KEYS (the session scheme).
/// </summary>
public sealed class RewardsOptions
{
    [Required(ErrorMessage = "Set FANVOTE_REWARDS_PG_CONNECTION (or Rewards:ConnectionString) to the Npgsql connection string of the points ledger's restricted role.")]
    public string ConnectionString { get; set; } = "";

    /// <summary>Where the ledger's heads are appended (FANVOTE_LEDGER_ANCHORS): a file outside the database. Required outside Development.</summary>
    public string AnchorFile { get; set; } = "";

    /// <summary>How often the head is anchored when it moved (besides after every payout and credit).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan AnchorInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a payout waits for the consent of counted voters rewards has no record of (every fan who can vote gave
    /// purposes, and ingress passed each change on, so a missing record is one still on its way: after an outage of
    /// rewards, say). Past this, such voters are left out like those who did not give "rewards".
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ConsentWait { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Most entries one statement page returns.</summary>
    [Range(1, 1000)]
    public int MaxStatementEntries { get; set; } = 200;

    /// <summary>How long a spin, a raffle entry or another decision under the ledger's chain lock waits its turn before answering 503.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan ChainWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The VIP tiers, lowest first (the first starts at 0); empty: <see cref="Core.VipTiers.Default"/>.</summary>
    public List<TierOption> Tiers { get; set; } = [];

    /// <summary>What tiers count earned points over: "lifetime" (default), or the name of the current season (a new name starts every fan from 0).</summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,40}$", ErrorMessage = "Rewards:Season is 'lifetime' or a season's name: 1-40 letters, digits, '.', '_' or '-'.")]
    public string Season { get; set; } = Core.VipTiers.Lifetime;

    /// <summary>How often live polls' counts are sent to results when they changed (answer → visible is at most about this plus the hops).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollPublishInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the tier changes waiting in the outbox are published.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan TierPublishInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>One VIP tier as configured (Rewards:Tiers:N:Name, MinPoints, ExtraTickets, Badge).</summary>
public sealed class TierOption
{
    public string Name { get; set; } = "";

    public long MinPoints { get; set; }

    public int ExtraTickets { get; set; }

    public string? Badge { get; set; }
}
