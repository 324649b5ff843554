using System.ComponentModel.DataAnnotations;

namespace FanVote.Results;

/// <summary>Section "Results".</summary>
public sealed class ResultsOptions
{
    /// <summary>Most live streams one client address may hold open at once (behind a proxy, set FANVOTE_TRUSTED_PROXIES so the address is the fan's).</summary>
    [Range(1, 1_000_000)]
    public int MaxStreamsPerClient { get; set; } = 32;
}
