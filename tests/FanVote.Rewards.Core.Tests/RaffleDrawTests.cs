using System.Security.Cryptography;

namespace FanVote.Rewards.Core.Tests;

public sealed class RaffleDrawTests
{
    private static readonly byte[] Seed = SHA256.HashData("a raffle seed for tests"u8);

    private static readonly Raffle Raffle = new("meet-greet", "Meet and greet", 5, 10, [new("backstage pass", 1, 0), new("signed album", 2, 200), new("points", 3, 50)]);

    /// <summary>Fans a0..a(n-1); fan i holds i % 4 + 1 tickets, taken in rounds so that tickets interleave.</summary>
    private static List<RaffleTicket> Tickets(int fans)
    {
        var tickets = new List<RaffleTicket>();
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < fans; i++)
            {
                if (i % 4 >= round)
                {
                    tickets.Add(new RaffleTicket(tickets.Count + 1, RaffleDraw.Holder(Raffle.RaffleId, $"a{i}")));
                }
            }
        }

        return tickets;
    }

    [Fact]
    public void Draw_GivesEachPrizeItsCount_OnePrizePerFan_AndIsTheSameEveryTime()
    {
        var tickets = Tickets(40);

        var winners = RaffleDraw.Draw(Seed, Raffle, tickets);

        Assert.Equal([0, 1, 1, 2, 2, 2], winners.Select(w => w.Prize));
        Assert.Equal(6, winners.Select(w => w.Holder).Distinct().Count());
        Assert.All(winners, w => Assert.Equal(tickets[(int)w.Ticket - 1].Holder, w.Holder));
        Assert.Equal(winners, RaffleDraw.Draw(Seed, Raffle, tickets));
        Assert.NotEqual(winners, RaffleDraw.Draw(SHA256.HashData(Seed), Raffle, tickets));
    }

    [Fact]
    public void Draw_DependsOnTheWholeList_AddingOneTicketChangesThePicks()
    {
        var tickets = Tickets(40);
        var more = tickets.Append(new RaffleTicket(tickets.Count + 1, RaffleDraw.Holder(Raffle.RaffleId, "late-fan"))).ToList();

        Assert.NotEqual(RaffleDraw.EntriesDigest(Raffle.RaffleId, tickets), RaffleDraw.EntriesDigest(Raffle.RaffleId, more));
        Assert.NotEqual(RaffleDraw.Draw(Seed, Raffle, tickets).Select(w => w.Ticket), RaffleDraw.Draw(Seed, Raffle, more).Select(w => w.Ticket));
    }

    [Fact]
    public void Draw_WithFewerFansThanPrizes_GivesOnePrizeToEachFan_InPrizeOrder()
    {
        var tickets = Tickets(2); // fan a0 one ticket, a1 two

        var winners = RaffleDraw.Draw(Seed, Raffle, tickets);

        Assert.Equal([0, 1], winners.Select(w => w.Prize));
        Assert.Equal(2, winners.Select(w => w.Holder).Distinct().Count());
        Assert.Empty(RaffleDraw.Draw(Seed, Raffle, []));
    }

    [Fact]
    public void Draw_FavoursNoTicket_EachTicketWinsTheFirstPrizeAboutEquallyOften()
    {
        // 10 fans with one ticket each, 20,000 seeds: the first prize goes to each about 2,000 times.
        var tickets = Enumerable.Range(0, 10).Select(i => new RaffleTicket(i + 1, $"h{i}")).ToList();
        var one = Raffle with { Prizes = [new("only", 1, 0)] };
        var wins = new int[10];
        for (var s = 0; s < 20_000; s++)
        {
            wins[RaffleDraw.Draw(BitConverter.GetBytes(s), one, tickets)[0].Ticket - 1]++;
        }

        var chi = wins.Sum(w => Math.Pow(w - 2000, 2) / 2000);
        Assert.True(chi < 27.9, $"wins per ticket {string.Join(", ", wins)}: chi-square {chi:0.0} over 9 degrees of freedom (p = 0.001 at 27.9)");
    }

    [Fact]
    public void Verify_AcceptsTheDraw_AndNamesEachKindOfForgery()
    {
        var tickets = Tickets(40);
        var digest = RaffleDraw.EntriesDigest(Raffle.RaffleId, tickets);
        var winners = RaffleDraw.Draw(Seed, Raffle, tickets);
        var commitment = ProvablyFair.Commitment(Seed);

        Assert.Empty(RaffleDraw.Verify(Raffle, commitment, Seed, tickets, digest, winners));

        var otherSeed = RaffleDraw.Verify(Raffle, commitment, SHA256.HashData(Seed), tickets, digest, winners);
        Assert.Contains("does not match the commitment", Assert.Single(otherSeed), StringComparison.Ordinal);

        var dropped = tickets.Where(t => t.Ticket != 7).ToList();
        var droppedFindings = string.Join("\n", RaffleDraw.Verify(Raffle, commitment, Seed, dropped, digest, winners));
        Assert.Contains("ticket 7 is missing", droppedFindings, StringComparison.Ordinal);
        Assert.Contains("not the one drawn from", droppedFindings, StringComparison.Ordinal);

        var swapped = winners.Select((w, i) => i == 2 ? w with { Ticket = w.Ticket == 1 ? 2 : 1, Holder = tickets[w.Ticket == 1 ? 1 : 0].Holder } : w).ToList();
        Assert.Contains("pick 2", Assert.Single(RaffleDraw.Verify(Raffle, commitment, Seed, tickets, digest, swapped)), StringComparison.Ordinal);

        Assert.Contains("5 were published", Assert.Single(RaffleDraw.Verify(Raffle, commitment, Seed, tickets, digest, winners[..5])), StringComparison.Ordinal);
    }

    [Fact]
    public void Holder_IsPerRaffle_AndPerAccount()
    {
        Assert.Equal(RaffleDraw.Holder("r1", "abc"), RaffleDraw.Holder("r1", "abc"));
        Assert.NotEqual(RaffleDraw.Holder("r1", "abc"), RaffleDraw.Holder("r2", "abc"));
        Assert.NotEqual(RaffleDraw.Holder("r1", "abc"), RaffleDraw.Holder("r1", "abd"));
        Assert.Matches("^[0-9a-f]{24}$", RaffleDraw.Holder("r1", "abc"));
    }

    [Theory]
    [InlineData("raffleId")]
    [InlineData("ticketCost")]
    [InlineData("maxTicketsPerFan")]
    [InlineData("prizes")]
    [InlineData("count")]
    [InlineData("winners")]
    public void RaffleRules_NameWhatIsWrong(string wrong)
    {
        var raffle = wrong switch
        {
            "raffleId" => Raffle with { RaffleId = "No Id" },
            "ticketCost" => Raffle with { TicketCost = -1 },
            "maxTicketsPerFan" => Raffle with { MaxTicketsPerFan = 0 },
            "prizes" => Raffle with { Prizes = [] },
            "count" => Raffle with { Prizes = [new("x", 0, 5)] },
            _ => Raffle with { Prizes = [new("x", RaffleRules.MaxWinners + 1, 0)] },
        };

        Assert.Contains(wrong, RaffleRules.Check(raffle), StringComparison.Ordinal);
        Assert.Null(RaffleRules.Check(Raffle));
    }
}
