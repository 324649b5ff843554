using FanVote.Contracts.Events;

namespace FanVote.Rewards.Core;

/// <summary>One credit a payout makes to a fan.</summary>
public sealed record FanCredit(string AccountId, string Reason, long Points);

/// <summary>
/// A window's payout under its rules: <see cref="CountedVotesReason"/> = counted votes × points per vote, and
/// <see cref="WinnerBonusReason"/> once per account with at least one counted vote for a winner. Credits of 0 are left
/// out. Each (window, account, reason) is credited at most once, however often the payout is asked for.
/// </summary>
public static class PayoutPlan
{
    public const string CountedVotesReason = "counted-votes";
    public const string WinnerBonusReason = "winner-bonus";
    public const string PoolFundingReason = "pool-funding";

    public static List<FanCredit> Credits(PayoutRules rules, IReadOnlyList<string> winners, IEnumerable<CountedVoter> voters)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(winners);
        ArgumentNullException.ThrowIfNull(voters);
        var credits = new List<FanCredit>();
        foreach (var v in voters)
        {
            var counted = v.Votes.Values.Sum();
            if (counted > 0 && rules.PointsPerVote > 0)
            {
                credits.Add(new FanCredit(v.AccountId, CountedVotesReason, checked(counted * rules.PointsPerVote)));
            }

            if (rules.WinnerBonus > 0 && winners.Any(w => v.Votes.GetValueOrDefault(w) > 0))
            {
                credits.Add(new FanCredit(v.AccountId, WinnerBonusReason, rules.WinnerBonus));
            }
        }

        return credits;
    }

    /// <summary>The ledger entries of a payout: the pool is funded with the total, then each credit moves from the pool to the fan.</summary>
    public static List<NewEntry> Entries(string windowId, IReadOnlyList<FanCredit> credits, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(credits);
        var total = credits.Sum(c => c.Points);
        if (total == 0)
        {
            return [];
        }

        var pool = Accounts.Pool(windowId);
        return
        [
            new NewEntry(EntryId(windowId, pool, PoolFundingReason), windowId, Accounts.Issuance, pool, total, PoolFundingReason, at),
            .. credits.Select(c => new NewEntry(EntryId(windowId, Accounts.Fan(c.AccountId), c.Reason), windowId, pool, Accounts.Fan(c.AccountId), c.Points, c.Reason, at)),
        ];
    }

    /// <summary>Entry ids follow from (window, credited account, reason): the same credit always has the same id.</summary>
    public static Guid EntryId(string windowId, string creditAccount, string reason) => Contracts.EventIds.Stable("ledger-entry", windowId, creditAccount, reason);
}
