using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace FanVote.Rewards.Core;

/// <summary>What a raffle gives away: <see cref="Count"/> winners of this prize, each credited <see cref="Points"/> (0: a prize outside the ledger).</summary>
public sealed record RafflePrize(string Label, int Count, long Points);

/// <summary>
/// A raffle as published when entries open: what a ticket costs in points (0: free), how many tickets one fan may
/// hold, and the prizes in the order they are drawn. One prize per fan: a fan's other tickets leave the draw once they win.
/// </summary>
public sealed record Raffle(string RaffleId, string Name, long TicketCost, int MaxTicketsPerFan, IReadOnlyList<RafflePrize> Prizes)
{
    public int Winners => Prizes.Sum(p => p.Count);

    /// <summary>The VIP tier a fan needs to enter (null: everyone); each tier's extra tickets raise the cap for its fans.</summary>
    public string? MinTier { get; init; }
}

/// <summary>One ticket of the published entry list: its number (1, 2, ... in the order they were taken) and its holder's pseudonym.</summary>
public sealed record RaffleTicket(long Ticket, string Holder);

/// <summary>One winner: the prize (its index and label), the winning ticket and its holder.</summary>
public sealed record RaffleWinner(int Prize, string Label, long Points, long Ticket, string Holder);

public static partial class RaffleRules
{
    public const int MaxPrizes = 20;
    public const int MaxWinners = 1000;
    public const int MaxTicketsPerFanLimit = 1000;
    public const long MaxTicketCost = 1_000_000;
    public const long MaxPrizePoints = 100_000_000;

    /// <summary>Null when the raffle is well formed, else the first thing wrong with it.</summary>
    public static string? Check(Raffle raffle)
    {
        ArgumentNullException.ThrowIfNull(raffle);
        if (!Id().IsMatch(raffle.RaffleId ?? ""))
        {
            return "raffleId must be 1-64 lower-case letters, digits and '-', starting with a letter or digit";
        }

        if (string.IsNullOrWhiteSpace(raffle.Name) || raffle.Name.Length > WheelRules.MaxName)
        {
            return $"name must be 1-{WheelRules.MaxName} characters";
        }

        if (raffle.TicketCost is < 0 or > MaxTicketCost)
        {
            return $"ticketCost must be between 0 (free) and {MaxTicketCost} points";
        }

        if (raffle.MaxTicketsPerFan is < 1 or > MaxTicketsPerFanLimit)
        {
            return $"maxTicketsPerFan must be between 1 and {MaxTicketsPerFanLimit}";
        }

        if (raffle.Prizes is null || raffle.Prizes.Count is < 1 or > MaxPrizes)
        {
            return $"a raffle has 1-{MaxPrizes} prizes";
        }

        for (var i = 0; i < raffle.Prizes.Count; i++)
        {
            var p = raffle.Prizes[i];
            if (p is null || string.IsNullOrWhiteSpace(p.Label) || p.Label.Length > WheelRules.MaxLabel)
            {
                return string.Create(CultureInfo.InvariantCulture, $"prize {i}: label must be 1-{WheelRules.MaxLabel} characters");
            }

            if (p.Count < 1 || p.Points is < 0 or > MaxPrizePoints)
            {
                return string.Create(CultureInfo.InvariantCulture, $"prize {i} ({p.Label}): count must be 1 or more and points between 0 and {MaxPrizePoints}");
            }
        }

        return raffle.Winners > MaxWinners ? $"a raffle has at most {MaxWinners} winners in all" : null;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex Id();
}

/// <summary>
/// The provably fair draw. When entries open the raffle publishes the commitment (hex SHA-256 of its server seed,
/// derived like a wheel's: <see cref="ProvablyFair.ServerSeed"/> under the ledger key, for the id "raffle:" + raffle id). The entry list
/// is published with each ticket's holder as a per-raffle pseudonym (<see cref="Holder"/>: a fan recomputes their own,
/// nobody else can link it to an account), and its digest (<see cref="EntriesDigest"/>) is part of every pick, so the
/// winners follow from the list and the seed alone. Pick k (0, 1, ...) takes index
/// <see cref="FairDraw.Uniform"/>(seed, "fanvote-raffle-v1\n" raffle "\n" digest "\n" k "\n", tickets left) of the
/// tickets still in the draw, in ticket order; the winner's tickets then all leave the draw (one prize per fan).
/// Prizes are drawn in their published order, each as many times as its count; with fewer fans than prizes the last
/// prizes are not given.
/// </summary>
public static class RaffleDraw
{
    public const string Format = "fanvote-raffle-v1";

    /// <summary>The raffle's server seed (see <see cref="ProvablyFair.ServerSeed"/>; never the same as a wheel's of the same id).</summary>
    public static byte[] ServerSeed(LedgerKey key, string raffleId, ReadOnlySpan<byte> salt) => ProvablyFair.ServerSeed(key, "raffle:" + raffleId, salt);

    /// <summary>A fan's pseudonym in one raffle: the first 12 bytes of SHA-256 over "fanvote-raffle-holder-v1\n" raffle "\n" account "\n", in hex.</summary>
    public static string Holder(string raffleId, string accountId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"fanvote-raffle-holder-v1\n{raffleId}\n{accountId}\n"))[..12]);

    /// <summary>Hex SHA-256 over "fanvote-raffle-entries-v1\n" raffle "\n" then "ticket holder\n" per ticket, in ticket order.</summary>
    public static string EntriesDigest(string raffleId, IEnumerable<RaffleTicket> tickets)
    {
        ArgumentNullException.ThrowIfNull(tickets);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"fanvote-raffle-entries-v1\n{raffleId}\n"));
        foreach (var t in tickets)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{t.Ticket} {t.Holder}\n")));
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>The winners, in draw order, from the seed and the entry list (ordered by ticket).</summary>
    public static List<RaffleWinner> Draw(ReadOnlySpan<byte> seed, Raffle raffle, IReadOnlyList<RaffleTicket> tickets)
    {
        ArgumentNullException.ThrowIfNull(raffle);
        ArgumentNullException.ThrowIfNull(tickets);
        var digest = EntriesDigest(raffle.RaffleId, tickets);
        var left = tickets.OrderBy(t => t.Ticket).ToList();
        var winners = new List<RaffleWinner>();
        var pick = 0;
        for (var p = 0; p < raffle.Prizes.Count; p++)
        {
            for (var c = 0; c < raffle.Prizes[p].Count && left.Count > 0; c++)
            {
                var index = FairDraw.Uniform(seed, string.Create(CultureInfo.InvariantCulture, $"{Format}\n{raffle.RaffleId}\n{digest}\n{pick++}\n"), left.Count);
                var won = left[(int)index];
                winners.Add(new RaffleWinner(p, raffle.Prizes[p].Label, raffle.Prizes[p].Points, won.Ticket, won.Holder));
                left.RemoveAll(t => t.Holder == won.Holder);
            }
        }

        return winners;
    }

    /// <summary>
    /// Checks a drawn raffle as published: the seed against the commitment, the entry list against its digest and
    /// ticket numbers 1..n without a gap, and the winners against the draw recomputed. Empty when all holds.
    /// </summary>
    public static IReadOnlyList<string> Verify(Raffle raffle, string commitment, byte[] seed, IReadOnlyList<RaffleTicket> tickets, string entriesDigest, IReadOnlyList<RaffleWinner> winners)
    {
        ArgumentNullException.ThrowIfNull(raffle);
        ArgumentNullException.ThrowIfNull(seed);
        ArgumentNullException.ThrowIfNull(tickets);
        ArgumentNullException.ThrowIfNull(winners);
        var findings = new List<string>();
        if (!ProvablyFair.Matches(seed, commitment))
        {
            findings.Add($"the revealed server seed does not match the commitment {commitment} published when entries opened (its SHA-256 is {ProvablyFair.Commitment(seed)})");
            return findings;
        }

        var ordered = tickets.OrderBy(t => t.Ticket).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            if (ordered[i].Ticket != i + 1)
            {
                findings.Add(string.Create(CultureInfo.InvariantCulture, $"the entry list's tickets do not run 1..{ordered.Count}: ticket {i + 1} is missing or another appears twice"));
                break;
            }
        }

        var digest = EntriesDigest(raffle.RaffleId, ordered);
        if (digest != entriesDigest)
        {
            findings.Add($"the entry list's digest is {digest}, the draw was made over {entriesDigest}: the list is not the one drawn from");
        }

        var expected = Draw(seed, raffle, ordered);
        if (expected.Count != winners.Count)
        {
            findings.Add(string.Create(CultureInfo.InvariantCulture, $"the draw gives {expected.Count} winners, {winners.Count} were published"));
        }

        for (var i = 0; i < Math.Min(expected.Count, winners.Count); i++)
        {
            if (expected[i].Ticket != winners[i].Ticket || expected[i].Prize != winners[i].Prize || expected[i].Holder != winners[i].Holder)
            {
                findings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"pick {i} ({expected[i].Label}): the seed and the list give ticket {expected[i].Ticket} of {expected[i].Holder}, ticket {winners[i].Ticket} of {winners[i].Holder} was published"));
            }
        }

        return findings;
    }
}

/// <summary>The ledger entries of raffles: a paid entry from the fan to the raffle's account, a points prize back.</summary>
public static class RaffleEntries
{
    public const string TicketReason = "raffle-tickets";

    public const string PrizeReason = "raffle-prize";

    /// <summary>The ledger scope of one entry request (its tickets are paid once), and of the raffle's prizes (one per fan).</summary>
    public static string EntryScope(string raffleId, string accountId, string entryKey) =>
        "raffle-entry:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{raffleId}\n{accountId}\n{entryKey}\n"))[..16]);

    public static string PrizeScope(string raffleId) => "raffle:" + raffleId;

    public static NewEntry Tickets(string raffleId, string accountId, string entryKey, long points, DateTimeOffset at)
    {
        var scope = EntryScope(raffleId, accountId, entryKey);
        var house = Accounts.Raffle(raffleId);
        return new NewEntry(PayoutPlan.EntryId(scope, house, TicketReason), scope, Accounts.Fan(accountId), house, points, TicketReason, at);
    }

    public static NewEntry Prize(string raffleId, string accountId, long points, DateTimeOffset at)
    {
        var scope = PrizeScope(raffleId);
        var fan = Accounts.Fan(accountId);
        return new NewEntry(PayoutPlan.EntryId(scope, fan, PrizeReason), scope, Accounts.Raffle(raffleId), fan, points, PrizeReason, at);
    }
}
