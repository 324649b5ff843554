using System.ComponentModel.DataAnnotations;
using FanVote.Ingress.Core;

namespace FanVote.Ingress;

/// <summary>
/// Section "Ingress"; Redis also from FANVOTE_REDIS_HOST (+ FANVOTE_REDIS_PASSWORD). Keys come from their own settings
/// (FANVOTE_TOKEN_KEYS, FANVOTE_RECEIPT_KEY, FANVOTE_ACCOUNT_KEY, FANVOTE_VOTE_KEY; see <see cref="IngressKeys"/>).
/// </summary>
public sealed class IngressOptions
{
    [Required(ErrorMessage = "Set FANVOTE_REDIS_HOST (host:port) or Ingress:Redis: ingress keeps idempotency keys, quotas and rate limits there.")]
    public string Redis { get; set; } = "";

    /// <summary>The Redis password (FANVOTE_REDIS_PASSWORD), empty when Redis has none.</summary>
    public string RedisPassword { get; set; } = "";

    /// <summary>How long a fan's token is valid; the app renews it with POST /v1/sessions/refresh before then.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a session may be renewed: a refresh is refused once this much time has passed since the fan signed in
    /// (the token carries the sign-in time), so a stolen token cannot be kept alive for ever.
    /// </summary>
    public TimeSpan MaxSessionAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// After a fan erased their account, how long the same device (guests) or phone number or e-mail address cannot make
    /// a new one: only a keyed hash of it stays, linked to no account. Longer than any window, so erasing does not give a
    /// fresh vote quota in a window still open.
    /// </summary>
    public TimeSpan SignUpAgainAfterErasure { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Limits on sign-ins and passcodes.</summary>
    public SignInLimits SignIn { get; set; } = new();

    /// <summary>Development only: the file passcodes are written to instead of being sent (default: in the temp folder).</summary>
    public string OtpOutbox { get; set; } = "";

    /// <summary>The SMS / e-mail gateway that sends passcodes (required outside Development); its token is FANVOTE_OTP_WEBHOOK_TOKEN.</summary>
    public Uri? OtpWebhookUrl { get; set; }

    /// <summary>The CAPTCHA provider's siteverify URL (required outside Development); its secret is FANVOTE_CAPTCHA_SECRET.</summary>
    public Uri? CaptchaVerifyUrl { get; set; }

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

    /// <summary>What the vote desk takes of these settings (the app's desk and the warm-up's are made alike).</summary>
    public VoteDeskOptions DeskOptions() => new(new RateLimits(PerAccountPerSecond, PerDevicePerSecond, PerIpPrefixPerSecond), RepublishAfterClose);

    /// <summary>
    /// Warm-up votes in flight at once through the vote endpoint before ingress reports ready (WarmUp/IngressWarmUp):
    /// enough for admission and publish batches the size a real peak makes.
    /// </summary>
    [Range(1, 1_024)]
    public int WarmUpConcurrency { get; set; } = 8;

    /// <summary>
    /// After the close, a retry of a vote whose first attempt got 503 (never confirmed) is published again only
    /// within this time; later it gets 409 and is not counted. Keep it below the orchestrator's
    /// <c>Lifecycle:AcceptSettle</c> minus <see cref="AckTimeout"/>: the drain takes ingress's accepted count as
    /// final at close + AcceptSettle, so a vote confirmed after that would be persisted but missing from it.
    /// </summary>
    public TimeSpan RepublishAfterClose { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often lapsed risk verdicts and passed challenges are forgotten, in memory and in ingress's Redis.</summary>
    public TimeSpan VerdictSweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A vote waits at most this long for the broker's acknowledgement before the fan gets 503.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Votes queued for publishing beyond which new ones get 503 at once (back-pressure).</summary>
    [Range(1, 10_000_000)]
    public int MaxQueue { get; set; } = 100_000;

    /// <summary>Largest vote request body in bytes.</summary>
    [Range(16, 65_536)]
    public int MaxVoteBody { get; set; } = 1024;

    /// <summary>Largest body of the sign-in and challenge endpoints, in bytes.</summary>
    public const int MaxSmallBody = 4096;
}

/// <summary>
/// Fixed-window limits on sign-ins (section "Ingress:SignIn"). Sized for fans behind one carrier network signing in
/// together when a show starts (a session lasts, refreshing costs no sign-in), not for a client minting accounts.
/// </summary>
public sealed class SignInLimits
{
    [Range(1, 1_000_000)]
    public int GuestPerIpPerMinute { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int GuestPerIpPerDay { get; set; } = 100;

    [Range(1, 1_000_000)]
    public int GuestPerPrefixPerMinute { get; set; } = 1_000;

    [Range(1, 1_000_000)]
    public int OtpPerIpPerMinute { get; set; } = 5;

    [Range(1, 1_000_000)]
    public int OtpPerIpPerDay { get; set; } = 50;

    [Range(1, 1_000_000)]
    public int OtpPerPrefixPerMinute { get; set; } = 300;

    [Range(1, 1_000)]
    public int OtpPerContactPerDay { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int OtpChecksPerIpPerMinute { get; set; } = 20;

    [Range(1, 1_000_000)]
    public int OtpChecksPerPrefixPerMinute { get; set; } = 600;
}
