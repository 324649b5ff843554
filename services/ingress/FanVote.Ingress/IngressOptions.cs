using System.ComponentModel.DataAnnotations;

namespace FanVote.Ingress;

/// <summary>Section "Ingress"; Redis also from FANVOTE_REDIS_HOST, keys from FANVOTE_TOKEN_KEYS / FANVOTE_RECEIPT_KEY.</summary>
public sealed class IngressOptions
{
    [Required(ErrorMessage = "Set FANVOTE_REDIS_HOST (host:port) or Ingress:Redis: ingress keeps idempotency keys, quotas and rate limits there.")]
    public string Redis { get; set; } = "";

    /// <summary>"kid:base64key;kid2:base64key" — the first signs, all verify. Empty = a development key (logged).</summary>
    public string TokenKeys { get; set; } = "";

    /// <summary>Base64 key for vote receipts. Empty = a development key (logged).</summary>
    public string ReceiptKey { get; set; } = "";

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(12);

    [Range(1, 100_000)]
    public int PerAccountPerSecond { get; set; } = 10;

    [Range(1, 100_000)]
    public int PerDevicePerSecond { get; set; } = 20;

    [Range(1, 1_000_000)]
    public int PerIpPrefixPerSecond { get; set; } = 2_000;

    /// <summary>Largest bulk publish (one broker round trip for this many votes).</summary>
    [Range(1, 5_000)]
    public int MaxBatch { get; set; } = 500;

    /// <summary>
    /// Batches in flight to the broker at once. Votes that arrive while all are busy wait and go out together
    /// in the next batch (group commit): fewer publishers make larger batches under load.
    /// </summary>
    [Range(1, 64)]
    public int Publishers { get; set; } = 2;

    /// <summary>Largest admission batch (one Redis script call for this many votes).</summary>
    [Range(1, 5_000)]
    public int MaxAdmissionBatch { get; set; } = 256;

    /// <summary>Admission script calls in flight at once (the same group commit as <see cref="Publishers"/>).</summary>
    [Range(1, 64)]
    public int AdmissionWorkers { get; set; } = 2;

    /// <summary>
    /// After the close, a retry of a vote whose first attempt got 503 (never confirmed) is published again only
    /// within this time; later it gets 409 and is not counted. Keep it below the orchestrator's
    /// <c>Lifecycle:AcceptSettle</c> minus <see cref="AckTimeout"/>: the drain takes ingress's accepted count as
    /// final at close + AcceptSettle, so a vote confirmed after that would be persisted but missing from it.
    /// </summary>
    public TimeSpan RepublishAfterClose { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>A vote waits at most this long for the broker's acknowledgement before the fan gets 503.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Votes queued for publishing beyond which new ones get 503 at once (back-pressure).</summary>
    [Range(1, 10_000_000)]
    public int MaxQueue { get; set; } = 100_000;

    /// <summary>What the development challenge verifier accepts (see Risk/ChallengeVerifier.cs); a deployment plugs in a CAPTCHA instead.</summary>
    [Required]
    public string ChallengeAnswer { get; set; } = "i-am-a-fan";

    /// <summary>Largest vote request body in bytes.</summary>
    [Range(16, 65_536)]
    public int MaxVoteBody { get; set; } = 1024;
}
