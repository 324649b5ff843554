using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Rewards.Core;
using FanVote.Testing;

namespace FanVote.EndToEnd.Tests;

/// <summary>A system of its own: the show changes the ledger, which the attack suite's system must not see change.</summary>
public sealed class ShowRig : IAsyncLifetime
{
    public PipelineRig Pipeline { get; } = new(lifecycle: true);

    public ValueTask InitializeAsync() => Pipeline.InitializeAsync();

    public ValueTask DisposeAsync() => Pipeline.DisposeAsync();
}

/// <summary>
/// A show that runs a vote, a poll, a trivia round, a raffle and spins at once, through the running system: fans signed
/// in at ingress vote (counted, certified and paid out by the window's workflow), answer the poll (live on results),
/// play the trivia round (scored, credited), take raffle tickets (drawn, recomputable), and spend the points the vote
/// and the trivia earned them on a wheel. Every count is exact and every balance adds up.
/// </summary>
public sealed partial class ShowEndToEndTests(ShowRig fixture, ITestOutputHelper output) : IClassFixture<ShowRig>
{
    private static readonly string[] Candidates = ["aurora", "blaze", "comet"];

    private PipelineRig Rig => fixture.Pipeline;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonElement> CallAsync(HttpMethod method, string url, object? body, string? bearer, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (bearer is null)
        {
            request.Headers.Add("X-Operator-Key", PipelineRig.OperatorKey);
        }
        else if (bearer.Length > 0)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        using var r = await Rig.Http.SendAsync(request, Ct);
        var text = await r.Content.ReadAsStringAsync(Ct);
        Assert.True(r.StatusCode == expected, $"{method} {url}: expected {(int)expected}, got {(int)r.StatusCode} {text}");
        return text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default;
    }

    private static async Task UntilAsync(Func<Task<bool>> done, string what, int seconds = 180)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"within {seconds} s: {what}");
            await Task.Delay(300, Ct);
        }
    }

    [Fact]
    public async Task AShow_RunsAVoteAPollTriviaARaffleAndSpinsAtOnce_EveryCountExact_EveryBalanceAddsUp()
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        var (window, poll, quiz, raffle, wheel) = ($"show-{tag}", $"poll-{tag}", $"quiz-{tag}", $"raffle-{tag}", $"wheel-{tag}");
        var rewards = Rig.Rewards!.BaseUrl;
        var now = DateTimeOffset.UtcNow;

        // The operator sets up the show: a window open for 40 s, a poll, a trivia round of one question, a free raffle, a wheel.
        await Rig.CreateWindowAsync(window, Candidates, 3, now.AddSeconds(-1), now.AddSeconds(40));
        await CallAsync(HttpMethod.Post, $"{rewards}/v1/polls", new
        {
            pollId = poll, title = "Best act", closesAt = now.AddMinutes(10),
            questions = new[] { new { text = "Best act?", options = Candidates.Select(c => new { optionId = c, label = c }) } },
        }, null, HttpStatusCode.Created);
        await CallAsync(HttpMethod.Post, $"{rewards}/v1/trivia", new
        {
            roundId = quiz, title = "Quiz", startsAt = now.AddSeconds(2), gapSeconds = 1,
            questions = new[] { new { text = "Debut year?", correct = "y2019", seconds = 20, options = new[] { new { optionId = "y2018", label = "2018" }, new { optionId = "y2019", label = "2019" } } } },
        }, null, HttpStatusCode.Created);
        await CallAsync(HttpMethod.Post, $"{rewards}/v1/raffles", new
        {
            raffleId = raffle, name = "Meet the band", ticketCost = 0, maxTicketsPerFan = 1, closesAt = now.AddSeconds(30),
            prizes = new[] { new { label = "meet the band", count = 2, points = 25 } },
        }, null, HttpStatusCode.Created);
        await CallAsync(HttpMethod.Post, $"{rewards}/v1/wheels", new
        {
            wheelId = wheel, name = "Wheel", cost = 10, segments = new[] { new { label = "nothing", weight = 1, prize = 0 }, new { label = "five", weight = 1, prize = 5 } },
        }, null, HttpStatusCode.Created);

        // Eight fans sign in at ingress; all at once they vote (3 each), answer the poll, play the trivia, take a ticket.
        var fans = new Fans(Rig.IngressHttp, window, Candidates, accounts: 8, votesPerAccount: 3);
        var tokens = await fans.SignInAsync();
        var accounts = tokens.Select(Eventually.AccountOf).ToList();
        await UntilAsync(async () => (await CallAsync(HttpMethod.Get, $"{rewards}/v1/trivia/{quiz}", null, "", HttpStatusCode.OK)).GetProperty("questions")[0].GetProperty("state").GetString() == "open",
            "the trivia question opens");
        await Task.WhenAll(
            fans.VoteAsync(tokens, concurrency: 8),
            Task.WhenAll(tokens.Select(async (t, i) =>
            {
                await CallAsync(HttpMethod.Post, $"{rewards}/v1/polls/{poll}/answers", new { answers = new[] { new { question = 0, choices = new[] { Candidates[i % 3] } } } }, t, HttpStatusCode.Created);
                await CallAsync(HttpMethod.Post, $"{rewards}/v1/trivia/{quiz}/answers", new { question = 0, choice = i % 2 == 0 ? "y2019" : "y2018" }, t, HttpStatusCode.Created);
                await CallAsync(HttpMethod.Post, $"{rewards}/v1/raffles/{raffle}/entries", new { entryKey = $"ticket-{tag}-{i}" }, t, HttpStatusCode.Created);
            })));
        output.WriteLine($"{fans.Accepted.Count} votes accepted");

        // The poll is live on results.
        await UntilAsync(async () => (await Rig.ResultsAsync($"poll_{poll}_0")) is { ValueKind: JsonValueKind.Object } r && r.GetProperty("total").GetInt64() == 8, "results shows the poll's 8 answers");

        // The window runs to Completed: counted, certified and paid (10 points a counted vote, 50 for a vote for a winner).
        await UntilAsync(async () => (await CallAsync(HttpMethod.Get, $"{Rig.Orchestrator.BaseUrl}/v1/windows/{window}", null, null, HttpStatusCode.OK)).GetProperty("phase").GetString() == "Completed",
            "the window completes", 300);
        var certified = await CallAsync(HttpMethod.Get, $"{Rig.Orchestrator.BaseUrl}/v1/windows/{window}/certified", null, null, HttpStatusCode.OK);
        Assert.Equal(24, certified.GetProperty("counts").EnumerateObject().Sum(c => c.Value.GetInt64()));
        Assert.Equal(fans.Accepted.Count, await Rig.LedgerCountAsync(window));

        // Trivia scored and credited; the raffle drawn, and recomputable from what it published.
        await UntilAsync(async () => (await CallAsync(HttpMethod.Get, $"{rewards}/v1/trivia/{quiz}", null, "", HttpStatusCode.OK)).GetProperty("credited").GetBoolean(), "the trivia round is credited");
        var board = await CallAsync(HttpMethod.Get, $"{rewards}/v1/trivia/{quiz}/leaderboard?top=20", null, "", HttpStatusCode.OK);
        var trivia = board.GetProperty("lines").EnumerateArray().ToDictionary(l => l.GetProperty("holder").GetString()!, l => l.GetProperty("points").GetInt64());
        await UntilAsync(async () => (await CallAsync(HttpMethod.Get, $"{rewards}/v1/raffles/{raffle}", null, "", HttpStatusCode.OK)).GetProperty("state").GetString() == "drawn", "the raffle is drawn");
        var drawn = await CallAsync(HttpMethod.Get, $"{rewards}/v1/raffles/{raffle}", null, "", HttpStatusCode.OK);
        var entries = await CallAsync(HttpMethod.Get, $"{rewards}/v1/raffles/{raffle}/entries", null, "", HttpStatusCode.OK);
        var tickets = entries.GetProperty("tickets").EnumerateArray().Select(t => new RaffleTicket(t.GetProperty("ticket").GetInt64(), t.GetProperty("holder").GetString()!)).ToList();
        var winners = drawn.GetProperty("winners").EnumerateArray().Select(w => new RaffleWinner(w.GetProperty("prize").GetInt32(), w.GetProperty("label").GetString()!, w.GetProperty("points").GetInt64(), w.GetProperty("ticket").GetInt64(), w.GetProperty("holder").GetString()!)).ToList();
        Assert.Equal(8, tickets.Count);
        Assert.Empty(RaffleDraw.Verify(new Raffle(raffle, "Meet the band", 0, 1, [new("meet the band", 2, 25)]), drawn.GetProperty("commitment").GetString()!,
            Convert.FromHexString(drawn.GetProperty("serverSeed").GetString()!), tickets, drawn.GetProperty("entriesDigest").GetString()!, winners));

        // Each fan's balance is the payout, the trivia points and the raffle prize; then they spin it down, never below zero.
        var counted = await Rig.LedgerCountsAsync(window);
        var winner = certified.GetProperty("winners").EnumerateArray().Select(w => w.GetString()!).ToHashSet();
        foreach (var (account, token) in accounts.Zip(tokens))
        {
            var balance = (await CallAsync(HttpMethod.Get, $"{rewards}/v1/me/balance", null, token, HttpStatusCode.OK)).GetProperty("balance").GetInt64();
            var statement = await CallAsync(HttpMethod.Get, $"{rewards}/v1/me/statement?limit=50", null, token, HttpStatusCode.OK);
            var byReason = statement.GetProperty("entries").EnumerateArray().GroupBy(e => e.GetProperty("reason").GetString()!).ToDictionary(g => g.Key, g => g.Sum(e => e.GetProperty("amount").GetInt64()));
            Assert.Equal(byReason.Values.Sum(), balance);
            Assert.Equal(trivia.GetValueOrDefault(RaffleDraw.Holder(quiz, account)), byReason.GetValueOrDefault("trivia"));
            Assert.Equal(winners.Any(w => w.Holder == RaffleDraw.Holder(raffle, account)) ? 25 : 0, byReason.GetValueOrDefault("raffle-prize"));
            Assert.True(byReason.GetValueOrDefault("counted-votes") == 30, $"fan {account}: 3 counted votes pay 30 points; statement {statement}");

            var spins = 0;
            var left = balance;
            while (left >= 10)
            {
                var spin = await CallAsync(HttpMethod.Post, $"{rewards}/v1/wheels/{wheel}/spins", new { spinKey = $"spin-{tag}-{spins++:D4}", clientSeed = "show" }, token, HttpStatusCode.Created);
                left = spin.GetProperty("balanceAfter").GetInt64();
                Assert.True(left >= 0, $"balance after a spin {left}");
            }

            var refused = await CallAsync(HttpMethod.Post, $"{rewards}/v1/wheels/{wheel}/spins", new { spinKey = $"spin-{tag}-last", clientSeed = "show" }, token, HttpStatusCode.Conflict);
            Assert.Equal(left, refused.GetProperty("balance").GetInt64());
        }

        output.WriteLine($"winners {string.Join(",", winner)}; trivia {string.Join(",", trivia.Values)}; counted {string.Join(",", counted.Select(kv => $"{kv.Key}={kv.Value}"))}");
    }
}
