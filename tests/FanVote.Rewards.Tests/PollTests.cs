using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Security;
using FanVote.Testing;

namespace FanVote.Rewards.Tests;

/// <summary>
/// Polls through the running rewards service: the operator's routes, one answer per fan (a repeat counts once, another
/// answer is refused), bad answers and closed polls refused with nothing recorded, hidden results, and the counts sent
/// to results on `poll-updated`.
/// </summary>
public sealed class PollTests(RewardsRig rig) : IClassFixture<RewardsRig>
{
    private readonly RewardsCalls _calls = new(rig);

    private static object PollBody(string id, DateTimeOffset closesAt, bool hide = false, DateTimeOffset? opensAt = null) => new
    {
        pollId = id, title = "Poll " + id, closesAt, opensAt, hideResultsUntilClose = hide,
        questions = new object[]
        {
            new { text = "Best song?", options = new[] { new { optionId = "opener", label = "The opener" }, new { optionId = "ballad", label = "The ballad" } } },
            new { text = "Which members?", maxChoices = 2, options = new[] { new { optionId = "ari", label = "Ari" }, new { optionId = "bo", label = "Bo" }, new { optionId = "cy", label = "Cy" } } },
        },
    };

    private Task<HttpResponseMessage> AnswerAsync(string poll, string? token, object answers) =>
        _calls.FanAsync(HttpMethod.Post, $"/v1/polls/{poll}/answers", token, new { answers });

    private string Voter(string account) => _calls.Token(account, FanConsent.Voting);

    [Fact]
    public async Task Answers_CountOncePerFan_BadOrLateAnswersAreRefused_AndNothingIsRecorded()
    {
        var poll = RewardsCalls.NewId("poll");
        var id = poll;
        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/polls", PollBody(id, DateTimeOffset.UtcNow.AddHours(1)), key: ""), HttpStatusCode.Unauthorized);
        await _calls.ProblemOf(await _calls.FanAsync(HttpMethod.Post, "/v1/polls", Voter(RewardsCalls.NewAccount()), PollBody(id, DateTimeOffset.UtcNow.AddHours(1))), HttpStatusCode.Unauthorized);
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/polls", PollBody(id, DateTimeOffset.UtcNow.AddHours(1))), HttpStatusCode.Created);
        var bad = await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/polls", new { pollId = RewardsCalls.NewId("p"), title = "x", closesAt = DateTimeOffset.UtcNow.AddHours(1), questions = new[] { new { text = "One option?", options = new[] { new { optionId = "a", label = "A" } } } } }), HttpStatusCode.BadRequest);
        Assert.Contains("options", bad.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var fans = Enumerable.Range(0, 6).Select(_ => RewardsCalls.NewAccount()).ToList();
        foreach (var (fan, i) in fans.Select((f, i) => (f, i)))
        {
            await _calls.JsonOf(await AnswerAsync(id, Voter(fan), new object[] { new { question = 0, choices = new[] { i < 4 ? "ballad" : "opener" } }, new { question = 1, choices = new[] { "ari", "cy" } } }), HttpStatusCode.Created);
        }

        // The same answer again (a retry): 200, counted once. Another answer from the same fan: 409.
        var again = await _calls.JsonOf(await AnswerAsync(id, Voter(fans[0]), new object[] { new { question = 1, choices = new[] { "cy", "ari" } }, new { question = 0, choices = new[] { "ballad" } } }), HttpStatusCode.OK);
        Assert.True(again.GetProperty("repeated").GetBoolean());
        await _calls.ProblemOf(await AnswerAsync(id, Voter(fans[0]), new object[] { new { question = 0, choices = new[] { "opener" } } }), HttpStatusCode.Conflict);

        // Bad answers, strangers, forged tokens, fans without consent to be counted: refused, nothing recorded.
        var other = RewardsCalls.NewAccount();
        var says = new (object Answers, string Says)[]
        {
            (new object[] { new { question = 0, choices = new[] { "karaoke" } } }, "no option"),
            (new object[] { new { question = 0, choices = new[] { "opener", "ballad" } } }, "exactly one"),
            (new object[] { new { question = 1, choices = new[] { "ari", "bo", "cy" } } }, "1-2 choices"),
            (new object[] { new { question = 7, choices = new[] { "ari" } } }, "question number"),
            (Array.Empty<object>(), "at least one"),
        };
        foreach (var (answers, text) in says)
        {
            var p = await _calls.ProblemOf(await AnswerAsync(id, Voter(other), answers), HttpStatusCode.BadRequest);
            Assert.Contains(text, p.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using var otherKeys = new SessionTokens([("t1", RandomNumberGenerator.GetBytes(32))], TimeSpan.FromHours(1), TimeProvider.System);
        var forged = otherKeys.Issue(other, "device-1", SessionKind.Guest, DateTimeOffset.UtcNow.AddDays(-30), FanConsent.Voting);
        var one = new object[] { new { question = 0, choices = new[] { "opener" } } };
        await _calls.ProblemOf(await AnswerAsync(id, null, one), HttpStatusCode.Unauthorized);
        await _calls.ProblemOf(await AnswerAsync(id, forged, one), HttpStatusCode.Unauthorized);
        await _calls.ProblemOf(await AnswerAsync(id, _calls.Token(other, FanConsent.None), one), HttpStatusCode.Forbidden);
        await _calls.ProblemOf(await AnswerAsync("no-such-poll", Voter(other), one), HttpStatusCode.NotFound);
        Assert.Equal(0, await rig.ScalarAsync("SELECT count(*) FROM poll_answers WHERE account_id = $1", other));

        var counts = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/polls/{id}", null), HttpStatusCode.OK);
        Assert.Equal(6, counts.GetProperty("answers").GetInt64());
        var q0 = counts.GetProperty("questions")[0];
        Assert.Equal((4L, 2L, 6L), (q0.GetProperty("counts").GetProperty("ballad").GetInt64(), q0.GetProperty("counts").GetProperty("opener").GetInt64(), q0.GetProperty("total").GetInt64()));
        var q1 = counts.GetProperty("questions")[1];
        Assert.Equal((6L, 0L, 6L), (q1.GetProperty("counts").GetProperty("ari").GetInt64(), q1.GetProperty("counts").GetProperty("bo").GetInt64(), q1.GetProperty("total").GetInt64()));

        // Results is told: the latest snapshot of each question carries those counts.
        await Eventually.UntilAsync(async () => (await SnapshotsAsync(id)).Any(e => e.Question == 0 && e.Total == 6), $"rewards sends poll {id}'s counts on {Topics.PollUpdated}");
        var latest = (await SnapshotsAsync(id)).Where(e => e.Question == 0).MaxBy(e => e.Seq)!;
        Assert.Equal(("poll_" + id + "_0", 4L, false), (latest.ResultsId, latest.Counts["ballad"], latest.Hidden));
    }

    [Fact]
    public async Task TheOperator_ClosesAPollEarly_AnswersStop_HiddenCountsShow_OnlyWithTheKey()
    {
        var id = RewardsCalls.NewId("early");
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/polls", PollBody(id, DateTimeOffset.UtcNow.AddHours(1), hide: true)), HttpStatusCode.Created);
        var fan = RewardsCalls.NewAccount();
        await _calls.JsonOf(await AnswerAsync(id, Voter(fan), new object[] { new { question = 0, choices = new[] { "ballad" } } }), HttpStatusCode.Created);

        // Without the operator key (none, a wrong one, a fan's token): refused, and the poll stays open.
        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, $"/v1/polls/{id}/close", key: ""), HttpStatusCode.Unauthorized);
        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, $"/v1/polls/{id}/close", key: "not-the-operator-key-at-all"), HttpStatusCode.Unauthorized);
        await _calls.ProblemOf(await _calls.FanAsync(HttpMethod.Post, $"/v1/polls/{id}/close", Voter(fan)), HttpStatusCode.Unauthorized);
        Assert.Equal("open", (await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/polls/{id}", null), HttpStatusCode.OK)).GetProperty("state").GetString());
        await _calls.ProblemOf(await _calls.OperatorAsync(HttpMethod.Post, $"/v1/polls/{RewardsCalls.NewId("none")}/close"), HttpStatusCode.NotFound);

        var closed = await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, $"/v1/polls/{id}/close"), HttpStatusCode.OK);
        Assert.Equal("closed", closed.GetProperty("state").GetString());
        var late = await _calls.ProblemOf(await AnswerAsync(id, Voter(RewardsCalls.NewAccount()), new object[] { new { question = 0, choices = new[] { "opener" } } }), HttpStatusCode.Conflict);
        Assert.Contains("closed", late.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var shown = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/polls/{id}", null), HttpStatusCode.OK);
        Assert.Equal((1L, 0L), (shown.GetProperty("questions")[0].GetProperty("counts").GetProperty("ballad").GetInt64(), shown.GetProperty("questions")[0].GetProperty("counts").GetProperty("opener").GetInt64()));
        await Eventually.UntilAsync(async () => (await SnapshotsAsync(id)).Any(e => e.State == "closed" && !e.Hidden), "rewards sends the early-closed poll's counts to results", seconds: 90);

        // Closing again changes nothing: the same close time.
        var again = await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, $"/v1/polls/{id}/close"), HttpStatusCode.OK);
        Assert.Equal(closed.GetProperty("closesAt").GetDateTimeOffset(), again.GetProperty("closesAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task HiddenResults_StayHiddenUntilTheClose_TheOperatorSeesThem_ScheduledAndClosedPollsRefuseAnswers()
    {
        var id = RewardsCalls.NewId("hidden");
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/polls", PollBody(id, DateTimeOffset.UtcNow.AddSeconds(8), hide: true)), HttpStatusCode.Created);
        var fan = RewardsCalls.NewAccount();
        await _calls.JsonOf(await AnswerAsync(id, Voter(fan), new object[] { new { question = 0, choices = new[] { "opener" } } }), HttpStatusCode.Created);

        var open = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/polls/{id}", null), HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, open.GetProperty("questions")[0].GetProperty("counts").ValueKind);
        var report = await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Get, $"/v1/polls/{id}/report"), HttpStatusCode.OK);
        Assert.Equal(1, report.GetProperty("questions")[0].GetProperty("counts").GetProperty("opener").GetInt64());
        await Eventually.UntilAsync(async () => (await SnapshotsAsync(id)).Any(e => e.State == "open"), "rewards tells results the hidden poll is open");
        Assert.All((await SnapshotsAsync(id)).Where(e => e.State == "open"), e => Assert.True(e.Hidden && e.Counts.Count == 0 && e.Total == 0, "an open hidden poll's snapshot carries no counts"));

        // After the close: no more answers; the counts are out, to everyone and to results.
        await Eventually.UntilAsync(async () => (await SnapshotsAsync(id)).Any(e => e.State == "closed"), "rewards sends the closed poll's counts", seconds: 90);
        var closed = (await SnapshotsAsync(id)).Where(e => e.State == "closed" && e.Question == 0).MaxBy(e => e.Seq)!;
        Assert.Equal((false, 1L), (closed.Hidden, closed.Counts["opener"]));
        var late = await _calls.ProblemOf(await AnswerAsync(id, Voter(RewardsCalls.NewAccount()), new object[] { new { question = 0, choices = new[] { "ballad" } } }), HttpStatusCode.Conflict);
        Assert.Contains("closed", late.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var shown = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, $"/v1/polls/{id}", null), HttpStatusCode.OK);
        Assert.Equal(1, shown.GetProperty("questions")[0].GetProperty("counts").GetProperty("opener").GetInt64());

        var later = RewardsCalls.NewId("later");
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/polls", PollBody(later, DateTimeOffset.UtcNow.AddHours(2), opensAt: DateTimeOffset.UtcNow.AddHours(1))), HttpStatusCode.Created);
        var early = await _calls.ProblemOf(await AnswerAsync(later, Voter(fan), new object[] { new { question = 0, choices = new[] { "ballad" } } }), HttpStatusCode.Conflict);
        Assert.Contains("opens at", early.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private async Task<List<PollUpdated>> SnapshotsAsync(string poll) =>
        [.. (await StreamEvents.DataAsync<PollUpdated>(rig.Redis.Address, Topics.PollUpdated)).Where(e => e.PollId == poll)];
}
