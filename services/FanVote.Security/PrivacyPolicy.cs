using System.Globalization;

namespace FanVote.Security;

/// <summary>
/// The ages that matter in a region: under <paramref name="DigitalConsent"/> a fan's own consent to optional purposes
/// is not enough (a parent or guardian must consent too: GDPR art. 8, COPPA, PIPA art. 22-2); under
/// <paramref name="Majority"/> nothing paid and no marketing.
/// </summary>
public sealed record AgeThresholds(int DigitalConsent, int Majority);

/// <summary>A purpose as the fan is shown it: its current version, the legal basis FanVote relies on, and what it covers.</summary>
public sealed record PurposeTerms(Purposes Purpose, string Name, string Version, bool NeededToVote, string Basis, string Description);

/// <summary>One stored choice of a fan: a purpose given or withdrawn, under the version of its terms the fan was shown.</summary>
public sealed record PurposeChoice(Purposes Purpose, bool Granted, string Version);

/// <summary>
/// FanVote's privacy rules, plain: the purposes and their versions, the region's age thresholds, who may give which
/// purpose, what a stored set of choices amounts to, and who may pay. Ingress applies them at sign-in and when consent
/// changes and puts the outcome in the session token (<see cref="FanConsent"/>); other services read the token.
/// </summary>
public sealed class PrivacyPolicy
{
    /// <summary>The version every purpose has until configured otherwise.</summary>
    public const string FirstVersion = "2026-12-01";

    /// <summary>
    /// Thresholds per region (configurable per deployment). eu: 16 (GDPR art. 8's default; member states may lower it to
    /// 13) and 18; us: 13 (COPPA) and 18; kr: 14 (PIPA) and 19 (Civil Act); jp: 16 and 18; global: the strictest common
    /// pair, 16 and 18.
    /// </summary>
    public static IReadOnlyDictionary<string, AgeThresholds> RegionDefaults { get; } = new Dictionary<string, AgeThresholds>(StringComparer.OrdinalIgnoreCase)
    {
        ["eu"] = new(16, 18),
        ["us"] = new(13, 18),
        ["kr"] = new(14, 19),
        ["jp"] = new(16, 18),
        ["global"] = new(16, 18),
    };

    private readonly Dictionary<Purposes, PurposeTerms> _terms;

    public PrivacyPolicy(string region, AgeThresholds? ages = null, IReadOnlyDictionary<Purposes, string>? versions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(region);
        Region = region.Trim().ToLowerInvariant();
        Ages = ages ?? (RegionDefaults.TryGetValue(Region, out var d) ? d : RegionDefaults["global"]);
        if (Ages.DigitalConsent < 1 || Ages.Majority < Ages.DigitalConsent || Ages.Majority > 30)
        {
            throw new ArgumentException($"age thresholds {Ages.DigitalConsent}/{Ages.Majority}: the age of digital consent must be at least 1 and at most the age of majority (at most 30)", nameof(ages));
        }

        string V(Purposes p) => versions is not null && versions.TryGetValue(p, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : FirstVersion;
        _terms = new()
        {
            [Purposes.Counting] = new(Purposes.Counting, "counting", V(Purposes.Counting), true, "contract",
                "Store your votes, count each once, give you a receipt and certify the result. Needed to vote."),
            [Purposes.FraudPrevention] = new(Purposes.FraudPrevention, "fraud-prevention", V(Purposes.FraudPrevention), true, "legitimate interest",
                "Score votes for fraud from your account, device and network, ask for a check when a vote looks automated, and keep flags for the audit. Needed to vote: a count that vote farms can forge is worth nothing."),
            [Purposes.Rewards] = new(Purposes.Rewards, "rewards", V(Purposes.Rewards), false, "consent",
                "Credit points for your counted votes and keep your points statement. Optional."),
            [Purposes.Marketing] = new(Purposes.Marketing, "marketing", V(Purposes.Marketing), false, "consent",
                $"Tell you about shows and offers. Optional; offered only to fans who are {Ages.Majority} or older."),
        };
    }

    public string Region { get; }

    public AgeThresholds Ages { get; }

    public IReadOnlyList<PurposeTerms> AllTerms => [.. PurposeNames.All.Select(p => _terms[p])];

    public PurposeTerms TermsOf(Purposes purpose) => _terms[purpose];

    /// <summary>
    /// The band of a fan born in <paramref name="birthYear"/>. With only a year, a fan counts as having reached an age
    /// once it is certain (the year after the birthday could have fallen): born 2010, 16 for sure only in 2027.
    /// </summary>
    public AgeBand BandOf(int? birthYear, DateTimeOffset now)
    {
        if (birthYear is not { } y)
        {
            return AgeBand.Unknown;
        }

        var certainAge = now.Year - y - 1;
        return certainAge < Ages.DigitalConsent ? AgeBand.Child : certainAge < Ages.Majority ? AgeBand.Minor : AgeBand.Adult;
    }

    /// <summary>A birth year a person could have (between 1900 and this year), or why not.</summary>
    public static string? BirthYearProblem(int birthYear, DateTimeOffset now) =>
        birthYear < 1900 || birthYear > now.Year
            ? string.Create(CultureInfo.InvariantCulture, $"\"birthYear\" must be a year between 1900 and {now.Year}.")
            : null;

    /// <summary>
    /// Why a fan of band <paramref name="age"/> may not give <paramref name="purpose"/> (null when they may): marketing
    /// only to adults (a guest's age is unknown), rewards for a child only once a parent or guardian has consented.
    /// Withdrawing is always allowed.
    /// </summary>
    public string? RefuseGrant(Purposes purpose, AgeBand age, bool guardianConsented) => purpose switch
    {
        Purposes.Marketing when age == AgeBand.Unknown =>
            $"Marketing is offered only to fans who are {Ages.Majority} or older: sign in with a passcode and give your birth year.",
        Purposes.Marketing when age != AgeBand.Adult =>
            $"Marketing is offered only to fans who are {Ages.Majority} or older ({Region}).",
        Purposes.Rewards when age == AgeBand.Child && !guardianConsented =>
            $"Under {Ages.DigitalConsent} ({Region}), rewards need a parent's or guardian's consent first: POST /v1/me/guardian.",
        _ => null,
    };

    /// <summary>
    /// What stored choices amount to now: each purpose given under its current version (a purpose whose terms changed
    /// since must be given again) and still allowed for the fan's band (a grant the rules no longer allow lapses).
    /// </summary>
    public Purposes Effective(IEnumerable<PurposeChoice> choices, AgeBand age, bool guardianConsented)
    {
        ArgumentNullException.ThrowIfNull(choices);
        var granted = Purposes.None;
        foreach (var c in choices)
        {
            if (c.Granted && _terms.TryGetValue(c.Purpose, out var t) && t.Version == c.Version && RefuseGrant(c.Purpose, age, guardianConsented) is null)
            {
                granted |= c.Purpose;
            }
        }

        return granted;
    }

    /// <summary>
    /// Why a fan may not pay (points purchases, paid entries, paid spins), null when they may: only adults signed in with
    /// a passcode. Guests and fans who gave no birth year are treated as minors for anything paid.
    /// </summary>
    public string? RefusePayment(SessionKind kind, AgeBand age) =>
        kind == SessionKind.Guest ? "Guests cannot pay: sign in with a one-time passcode and give your birth year."
        : age == AgeBand.Unknown ? "Give your birth year (at passcode sign-in) before paying for anything."
        : age != AgeBand.Adult ? $"Paying is for fans who are {Ages.Majority} or older ({Region})."
        : null;
}
