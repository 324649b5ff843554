namespace FanVote.Security;

/// <summary>
/// What FanVote uses a fan's data for. Counting and fraud prevention are what voting is (the fan accepts them to vote;
/// without them a vote is refused, 403 naming the purpose); rewards and marketing are optional, off until the fan turns
/// them on. Each is given or withdrawn on its own, with the version of its terms (<see cref="PrivacyPolicy"/>).
/// </summary>
[Flags]
public enum Purposes
{
    None = 0,

    /// <summary>Storing and counting the fan's votes, issuing receipts, certifying the result.</summary>
    Counting = 1,

    /// <summary>Scoring votes for fraud from account, device and network; challenges; flags in the audit.</summary>
    FraudPrevention = 2,

    /// <summary>Crediting points for votes and showing the fan's balance and statement.</summary>
    Rewards = 4,

    /// <summary>Contacting the fan about shows and offers.</summary>
    Marketing = 8,
}

/// <summary>
/// How old a fan is, as far as FanVote knows (a birth year given at one-time-passcode sign-up, against the region's
/// thresholds). Guests never give one: <see cref="Unknown"/>, treated as a minor for anything paid.
/// </summary>
public enum AgeBand
{
    /// <summary>No birth year (guests; passcode accounts that did not give one).</summary>
    Unknown = 0,

    /// <summary>Under the region's age of digital consent: optional purposes need a parent's or guardian's consent too.</summary>
    Child = 1,

    /// <summary>At or over the age of digital consent, under the age of majority: nothing paid, no marketing.</summary>
    Minor = 2,

    /// <summary>At or over the region's age of majority.</summary>
    Adult = 3,
}

/// <summary>What a session token carries about consent and age, so every service decides locally (no store hit).</summary>
public readonly record struct FanConsent(Purposes Granted, AgeBand Age)
{
    /// <summary>Nothing given: a token of a fan who has not accepted the terms (can sign in, cannot vote).</summary>
    public static readonly FanConsent None = new(Purposes.None, AgeBand.Unknown);

    /// <summary>The purposes voting needs, age unknown (what tests, benchmarks and the warm-up sign their voters with).</summary>
    public static readonly FanConsent Voting = new(PurposeNames.NeededToVote, AgeBand.Unknown);

    public bool Has(Purposes purposes) => (Granted & purposes) == purposes;
}

/// <summary>The purposes' names in the API ("counting", "fraud-prevention", "rewards", "marketing").</summary>
public static class PurposeNames
{
    /// <summary>Voting needs both (the vote and challenge routes refuse without them).</summary>
    public const Purposes NeededToVote = Purposes.Counting | Purposes.FraudPrevention;

    public static IReadOnlyList<Purposes> All { get; } = [Purposes.Counting, Purposes.FraudPrevention, Purposes.Rewards, Purposes.Marketing];

    public static string Name(Purposes purpose) => purpose switch
    {
        Purposes.Counting => "counting",
        Purposes.FraudPrevention => "fraud-prevention",
        Purposes.Rewards => "rewards",
        Purposes.Marketing => "marketing",
        _ => throw new ArgumentOutOfRangeException(nameof(purpose), purpose, "one purpose at a time"),
    };

    /// <summary>Every purpose in <paramref name="purposes"/>, by name, comma-separated.</summary>
    public static string Names(Purposes purposes) => string.Join(", ", All.Where(p => (purposes & p) != 0).Select(Name));

    public static bool TryParse(string? name, out Purposes purpose)
    {
        purpose = All.FirstOrDefault(p => string.Equals(Name(p), name?.Trim(), StringComparison.OrdinalIgnoreCase));
        return purpose != Purposes.None;
    }

    public static string Name(AgeBand age) => age switch
    {
        AgeBand.Child => "child",
        AgeBand.Minor => "minor",
        AgeBand.Adult => "adult",
        _ => "unknown",
    };
}
