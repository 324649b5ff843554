using System.Net;
using System.Text.Json;

namespace FanVote.Rewards.Tests;

/// <summary>
/// Trivia rounds and raffle draws run as Dapr workflows on rewards' sidecar: kill rewards and its sidecar (SIGKILL, as
/// a crashed pod) while a round's question is open and before a raffle's draw, keep them down past both times, start
/// them again, and the workflows resume from their durable state: the round is scored and credited, the raffle drawn,
/// each exactly once in the ledger. Its own rig: the kill must not touch the other classes' rewards.
/// </summary>
public sealed class FormatWorkflowTests(RewardsRig rig) : IClassFixture<RewardsRig>
{
    private readonly RewardsCalls _calls = new(rig);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonElement> UntilAsync(string path, Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(180);
        JsonElement seen;
        while (!done(seen = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, path, null), HttpStatusCode.OK)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"within 180 s: {what}; last seen {seen}");
            await Task.Delay(300, Ct);
        }

        return seen;
    }

    [Fact]
    public async Task ARoundAndARaffle_SurviveRewardsAndItsSidecarKilled_ScoredCreditedAndDrawnOnce()
    {
        var (quiz, raffle, fan) = (RewardsCalls.NewId("quiz"), RewardsCalls.NewId("raffle"), RewardsCalls.NewAccount());
        var now = DateTimeOffset.UtcNow;
        // The question is open 20 s and entries close after 20 s: time for the answer and the ticket on a loaded machine.
        var created = await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/trivia", new
        {
            roundId = quiz, title = "Crash quiz", startsAt = now.AddSeconds(1), gapSeconds = 1,
            questions = new[] { new { text = "Right?", correct = "a", seconds = 20, options = new[] { new { optionId = "a", label = "A" }, new { optionId = "b", label = "B" } } } },
        }), HttpStatusCode.Created);
        var closesAt = created.GetProperty("questions")[0].GetProperty("closesAt").GetDateTimeOffset();
        var defined = await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", new
        {
            raffleId = raffle, name = "Crash raffle", ticketCost = 0, maxTicketsPerFan = 1, closesAt = now.AddSeconds(20), prizes = new[] { new { label = "points", count = 1, points = 40 } },
        }), HttpStatusCode.Created);
        var drawAt = defined.GetProperty("drawAt").GetDateTimeOffset();

        await UntilAsync($"/v1/trivia/{quiz}", r => r.GetProperty("questions")[0].GetProperty("state").GetString() == "open", "the question opens");
        await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Post, $"/v1/trivia/{quiz}/answers", _calls.Token(fan), new { question = 0, choice = "a" }), HttpStatusCode.Created);
        await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Post, $"/v1/raffles/{raffle}/entries", _calls.Token(fan), new { entryKey = "crash-entry-1", tickets = 1 }), HttpStatusCode.Created);

        // Down past the question's close and the draw time: nothing of rewards runs then.
        await rig.Rewards.KillAsync();
        var downUntil = (drawAt > closesAt ? drawAt : closesAt).AddSeconds(3);
        if (downUntil > DateTimeOffset.UtcNow)
        {
            await Task.Delay(downUntil - DateTimeOffset.UtcNow, Ct);
        }

        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1", "trivia:" + quiz));
        await rig.Rewards.StartAsync();

        var round = await UntilAsync($"/v1/trivia/{quiz}", r => r.GetProperty("credited").GetBoolean(), "the round is credited after the restart");
        Assert.Equal("a", round.GetProperty("questions")[0].GetProperty("correct").GetString());
        var drawn = await UntilAsync($"/v1/raffles/{raffle}", r => r.GetProperty("state").GetString() == "drawn", "the raffle is drawn after the restart");
        Assert.Single(drawn.GetProperty("winners").EnumerateArray());

        var balance = await _calls.BalanceAsync(fan);
        Assert.InRange(balance, 100 + 40, 150 + 40);
        Assert.Equal(1, await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1", "trivia:" + quiz));
        Assert.Equal(1, await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1 AND reason = 'raffle-prize'", "raffle:" + raffle));
    }
}
