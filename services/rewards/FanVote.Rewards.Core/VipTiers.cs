using System.Globalization;

namespace FanVote.Rewards.Core;

/// <summary>A VIP tier: reached at <see cref="MinPoints"/> earned; what it unlocks: extra raffle tickets above each raffle's cap, a badge.</summary>
public sealed record VipTier(string Name, long MinPoints, int ExtraTickets, string? Badge);

/// <summary>
/// The tier table: a fan's tier is the highest whose threshold their earned points reach. Earned points are what
/// FanVote gave the fan (credits from issuance or a window's pool: counted votes, winner bonuses, goodwill), not
/// what they won back on a wheel or in a raffle, and never reduced by spending; counted over the fan's lifetime, or
/// per season (<see cref="Season"/>), as the deployment chooses.
/// </summary>
public sealed class VipTiers
{
    /// <summary>The season key of lifetime counting.</summary>
    public const string Lifetime = "lifetime";

    public VipTiers(IReadOnlyList<VipTier> tiers, string season)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        if (tiers.Count == 0 || tiers[0].MinPoints != 0)
        {
            throw new ArgumentException("the first tier starts at 0 points: every fan has a tier", nameof(tiers));
        }

        for (var i = 0; i < tiers.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(tiers[i].Name) || tiers[i].ExtraTickets < 0 || (i > 0 && tiers[i].MinPoints <= tiers[i - 1].MinPoints))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"tier {i}: a name, extra tickets ≥ 0, and a threshold above the tier before it"), nameof(tiers));
            }
        }

        if (tiers.Select(t => t.Name).Distinct(StringComparer.Ordinal).Count() != tiers.Count)
        {
            throw new ArgumentException("tier names must differ", nameof(tiers));
        }

        Tiers = tiers;
        Season = string.IsNullOrWhiteSpace(season) ? Lifetime : season;
    }

    /// <summary>The default table: fan, silver at 500, gold at 2,000, platinum at 10,000.</summary>
    public static IReadOnlyList<VipTier> Default { get; } =
    [
        new("fan", 0, 0, null),
        new("silver", 500, 1, "silver"),
        new("gold", 2_000, 2, "gold"),
        new("platinum", 10_000, 5, "platinum"),
    ];

    public IReadOnlyList<VipTier> Tiers { get; }

    /// <summary>What earned points are counted over: <see cref="Lifetime"/>, or the name of the current season.</summary>
    public string Season { get; }

    public VipTier For(long earned) => Tiers.Last(t => earned >= t.MinPoints);

    /// <summary>The tier after <paramref name="tier"/>, or null at the top.</summary>
    public VipTier? Next(VipTier tier) => Tiers.SkipWhile(t => t.Name != tier.Name).Skip(1).FirstOrDefault();

    /// <summary>The tier named <paramref name="name"/>, or null.</summary>
    public VipTier? Named(string? name) => Tiers.FirstOrDefault(t => t.Name == name);

    /// <summary>
    /// True when a fan of <paramref name="tier"/> may take part in something for <paramref name="minTier"/> and above
    /// (null, or a name not in the table: everyone; definitions are checked against the table when created).
    /// </summary>
    public bool Admits(VipTier tier, string? minTier) => minTier is null || Named(minTier) is not { } min || Reaches(tier, min);

    /// <summary>True when <paramref name="tier"/> is <paramref name="atLeast"/> or above.</summary>
    public static bool Reaches(VipTier tier, VipTier atLeast)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(atLeast);
        return tier.MinPoints >= atLeast.MinPoints;
    }

    /// <summary>True when an entry from <paramref name="debit"/> to <paramref name="credit"/> earns the credited fan its points: from issuance or a pool, to a fan.</summary>
    public static bool Earns(string debit, string credit) =>
        Accounts.IsFan(credit) && (debit == Accounts.Issuance || debit.StartsWith("pool:", StringComparison.Ordinal));
}
