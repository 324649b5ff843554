using System.Net;
using System.Text.Json;

namespace FanVote.Rewards.Tests;

/// <summary>
/// The lineup (`GET /v1/live`, anyone): every live format the operator put on, with its state and VIP tier, read from
/// the formats' own tables; a closed wheel drops off, a poll that has not opened yet is listed as scheduled.
/// </summary>
public sealed class LineupTests(RewardsRig rig) : IClassFixture<RewardsRig>
{
    private readonly RewardsCalls _calls = new(rig);

    [Fact]
    public async Task Lineup_ListsEachFormatWithItsState_AndDropsAClosedWheel()
    {
        var now = DateTimeOffset.UtcNow;
        var (open, later, quiz, raffle, wheel, shut) = (RewardsCalls.NewId("poll"), RewardsCalls.NewId("poll"), RewardsCalls.NewId("quiz"), RewardsCalls.NewId("raffle"), RewardsCalls.NewId("wheel"), RewardsCalls.NewId("wheel"));
        var question = new[] { new { text = "Best song?", options = new[] { new { optionId = "a", label = "A" }, new { optionId = "b", label = "B" } } } };
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/polls", new { pollId = open, title = "Open poll", closesAt = now.AddHours(1), questions = question, minTier = "gold" }), HttpStatusCode.Created);
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/polls", new { pollId = later, title = "Later poll", opensAt = now.AddMinutes(30), closesAt = now.AddHours(1), questions = question }), HttpStatusCode.Created);
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/trivia", new
        {
            roundId = quiz, title = "Quiz", startsAt = now.AddMinutes(5), gapSeconds = 2,
            questions = new[]
            {
                new { text = "One?", correct = "a", seconds = 10, options = question[0].options },
                new { text = "Two?", correct = "b", seconds = 20, options = question[0].options },
            },
        }), HttpStatusCode.Created);
        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/raffles", new
        {
            raffleId = raffle, name = "Poster", ticketCost = 0, maxTicketsPerFan = 1, closesAt = now.AddHours(1), prizes = new[] { new { label = "poster", count = 1 } },
        }), HttpStatusCode.Created);
        foreach (var id in new[] { wheel, shut })
        {
            await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, "/v1/wheels", new
            {
                wheelId = id, name = "Wheel " + id, cost = 5, segments = new[] { new { label = "none", weight = 1, prize = 0 }, new { label = "ten", weight = 1, prize = 10 } },
            }), HttpStatusCode.Created);
        }

        await _calls.JsonOf(await _calls.OperatorAsync(HttpMethod.Post, $"/v1/wheels/{shut}/close"), HttpStatusCode.OK);

        // Anyone may read it: no token, no key.
        var lineup = await _calls.JsonOf(await _calls.FanAsync(HttpMethod.Get, "/v1/live", token: null), HttpStatusCode.OK);
        var items = lineup.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("id").GetString()!, i => i);
        string Of(string id, string field) => items.TryGetValue(id, out var i) ? i.GetProperty(field).ToString() : $"({id} not listed: {lineup})";

        Assert.Equal(("poll", "open", "gold"), (Of(open, "kind"), Of(open, "state"), Of(open, "minTier")));
        Assert.Equal(("poll", "scheduled"), (Of(later, "kind"), Of(later, "state")));
        Assert.Equal(("trivia", "scheduled"), (Of(quiz, "kind"), Of(quiz, "state")));
        // The round ends when its last question closes: 5 min, then 10 s, a 2 s gap, 20 s.
        var ends = items[quiz].GetProperty("closesAt").GetDateTimeOffset() - items[quiz].GetProperty("opensAt").GetDateTimeOffset();
        Assert.Equal(TimeSpan.FromSeconds(32), ends);
        Assert.Equal(("raffle", "open"), (Of(raffle, "kind"), Of(raffle, "state")));
        Assert.Equal(("wheel", "open"), (Of(wheel, "kind"), Of(wheel, "state")));
        Assert.False(items.ContainsKey(shut), $"a closed wheel is off the lineup: {lineup}");
        Assert.Equal(JsonValueKind.Null, items[later].GetProperty("minTier").ValueKind);
    }
}
