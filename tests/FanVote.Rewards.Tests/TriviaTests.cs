using System.Net;
using System.Text.Json;
using FanVote.Rewards.Core;
using FanVote.Security;

namespace FanVote.Rewards.Tests;

/// <summary>
/// A trivia round through the running rewards service: questions open one after another, answers accepted once and
/// only while open, the sealed answer revealed (and checkable) at the close, scores with a speed bonus on a live
/// leaderboard, and the round's points credited to the ledger once.
/// </summary>
public sealed class TriviaTests(RewardsRig rig) : IClassFixture<RewardsRig>
{
    private readonly RewardsCalls _calls = new(rig);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object Question(string text, string correct, int seconds) => new
    {
        text, correct, seconds, points = 100, speedBonus = 50,
        options = new[] { new { optionId = "a", label = "A" }, new { optionId = "b", label = "B" }, new { optionId = "c", label = "C" } },
    };

    private Task<HttpResponseMessage> AnswerAsync(string round, string account, int question, string choice) =>
        _calls.FanAsync(HttpMethod.Post, $"/v1/trivia/{round}/answers", _calls.Token(account, FanConsent.Voting), new { question, choice });

    private async Task<JsonElement> RoundAsync(string round) => await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/trivia/{round}", null), HttpStatusCode.OK);

    private async Task<JsonElement> UntilAsync(string round, Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        JsonElement seen;
        while (!done(seen = await RoundAsync(round)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"within 120 s: {what}; last seen {seen}");
            await Task.Delay(200, Ct);
        }

        return seen;
    }

    [Fact]
    public async Task ARound_AcceptsEachAnswerOnceWhileOpen_RevealsTheSealedAnswer_ScoresWithASpeedBonus_AndCreditsOnce()
    {
        var id = RewardsCalls.NewId("quiz");
        // Opens 12 s after it is sent: the "before it opens" checks below must run before then, even on a loaded machine.
        var body = new { roundId = id, title = "Halftime quiz", startsAt = DateTimeOffset.UtcNow.AddSeconds(12), gapSeconds = 1, questions = new[] { Question("First?", "b", 10), Question("Second?", "c", 6) } };
        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/trivia", body, key: ""), HttpStatusCode.Unauthorized);
        var bad = await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/trivia", new { roundId = RewardsCalls.NewId("q"), title = "x", questions = new[] { Question("?", "z", 10) } }), HttpStatusCode.BadRequest);
        Assert.Contains("correct", bad.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var created = await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/trivia", body), HttpStatusCode.Created);

        // Before it opens: the commitments are out, the questions and answers are not; answers are refused.
        var q0 = created.GetProperty("questions")[0];
        Assert.Equal(JsonValueKind.Null, q0.GetProperty("text").ValueKind);
        Assert.Equal(JsonValueKind.Null, q0.GetProperty("correct").ValueKind);
        var commitment = q0.GetProperty("commitment").GetString()!;
        var (fast, slow, wrong, twice, late) = (RewardsCalls.NewAccount(), RewardsCalls.NewAccount(), RewardsCalls.NewAccount(), RewardsCalls.NewAccount(), RewardsCalls.NewAccount());
        var early = await _calls.ProblemOf(await AnswerAsync(id, fast, 0, "b"), HttpStatusCode.Conflict);
        Assert.Contains("opens at", early.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var open = await UntilAsync(id, r => r.GetProperty("questions")[0].GetProperty("state").GetString() == "open", "question 0 opens");
        Assert.Equal("First?", open.GetProperty("questions")[0].GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, open.GetProperty("questions")[0].GetProperty("correct").ValueKind);
        await _calls.JsonOf(await AnswerAsync(id, fast, 0, "b"), HttpStatusCode.Created);
        await _calls.JsonOf(await AnswerAsync(id, wrong, 0, "a"), HttpStatusCode.Created);
        await _calls.JsonOf(await AnswerAsync(id, twice, 0, "b"), HttpStatusCode.Created);
        var repeated = await _calls.JsonOf(await AnswerAsync(id, twice, 0, "b"), HttpStatusCode.OK);
        Assert.True(repeated.GetProperty("repeated").GetBoolean());
        await _calls.ProblemOf(await AnswerAsync(id, twice, 0, "c"), HttpStatusCode.Conflict);
        await _calls.ProblemOf(await AnswerAsync(id, wrong, 0, "zz"), HttpStatusCode.BadRequest);
        await _calls.ProblemOf(await AnswerAsync(id, wrong, 9, "a"), HttpStatusCode.NotFound);
        await _calls.ProblemOf(await AnswerAsync(id, fast, 1, "c"), HttpStatusCode.Conflict); // question 1 is not open yet
        await _calls.ProblemOf(await _calls.FanAsync(HttpMethod.Post, $"/v1/trivia/{id}/answers", null, new { question = 0, choice = "b" }), HttpStatusCode.Unauthorized);
        await Task.Delay(2000, Ct);
        await _calls.JsonOf(await AnswerAsync(id, slow, 0, "b"), HttpStatusCode.Created);

        // Closed and scored: late answers refused; the answer and its salt revealed, matching the commitment from the start.
        var closed = await UntilAsync(id, r => r.GetProperty("questions")[0].GetProperty("state").GetString() == "closed", "question 0 closes");
        var tooLate = await _calls.ProblemOf(await AnswerAsync(id, late, 0, "b"), HttpStatusCode.Conflict);
        Assert.Contains("closed", tooLate.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var revealed = closed.GetProperty("questions")[0];
        Assert.Equal("b", revealed.GetProperty("correct").GetString());
        Assert.Equal(commitment, TriviaSeal.Commitment(id, 0, "b", Convert.FromHexString(revealed.GetProperty("salt").GetString()!)));

        var deadline = DateTime.UtcNow.AddSeconds(120);
        JsonElement board;
        while ((board = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/trivia/{id}/leaderboard", null), HttpStatusCode.OK)).GetProperty("scored").GetInt32() < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, $"question 0 scored within 120 s: {board}");
            await Task.Delay(200, Ct);
        }

        var lines = board.GetProperty("lines").EnumerateArray().ToList();
        string Holder(string a) => RaffleDraw.Holder(id, a);
        long PointsOf(string a) => lines.Single(l => l.GetProperty("holder").GetString() == Holder(a)).GetProperty("points").GetInt64();
        Assert.InRange(PointsOf(fast), 100, 150);
        Assert.InRange(PointsOf(slow), 100, PointsOf(fast));
        Assert.True(PointsOf(fast) > PointsOf(slow), $"the faster answer scores more: {PointsOf(fast)} vs {PointsOf(slow)}");
        Assert.Equal(0, PointsOf(wrong));
        Assert.Equal(Holder(fast), lines[0].GetProperty("holder").GetString());

        // Question 1, then the round's points go to the ledger, once.
        await UntilAsync(id, r => r.GetProperty("questions")[1].GetProperty("state").GetString() == "open", "question 1 opens");
        await _calls.JsonOf(await AnswerAsync(id, fast, 1, "c"), HttpStatusCode.Created);
        var fastTotal = PointsOf(fast);
        await UntilAsync(id, r => r.GetProperty("credited").GetBoolean(), "the round's points are credited");
        var final = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/trivia/{id}/leaderboard", null), HttpStatusCode.OK);
        var fastFinal = final.GetProperty("lines").EnumerateArray().Single(l => l.GetProperty("holder").GetString() == Holder(fast)).GetProperty("points").GetInt64();
        Assert.InRange(fastFinal, fastTotal + 100, fastTotal + 150);
        Assert.Equal(fastFinal, await _calls.BalanceAsync(fast));
        Assert.Equal(PointsOf(slow), await _calls.BalanceAsync(slow));
        Assert.Equal(0, await _calls.BalanceAsync(wrong));
        Assert.Equal(3, await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE window_id = $1", "trivia:" + id)); // fast, slow, twice
    }
}
