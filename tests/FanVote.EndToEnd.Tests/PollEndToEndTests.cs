using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FanVote.EndToEnd.Tests.Attacks;

namespace FanVote.EndToEnd.Tests;

/// <summary>
/// A poll through the running system: fans signed in at ingress answer on rewards, and results shows the counts on the
/// same board and streams as a window's, under "poll_&lt;poll&gt;_&lt;question&gt;", which no window may take.
/// </summary>
[Collection(AttackSystem.Name)]
public sealed class PollEndToEndTests(AttackRig rig)
{
    private PipelineRig Pipeline => rig.Pipeline;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FansAnswerAPoll_ResultsShowsItsCountsLive_AndNoWindowCanTakeItsPlace()
    {
        var poll = "show-" + Guid.NewGuid().ToString("N")[..8];
        using (var create = new HttpRequestMessage(HttpMethod.Post, $"{Pipeline.Rewards!.BaseUrl}/v1/polls")
        {
            Content = JsonContent.Create(new
            {
                pollId = poll, title = "Tonight's show", closesAt = DateTimeOffset.UtcNow.AddHours(1),
                questions = new[] { new { text = "Best performance?", options = new[] { new { optionId = "aurora", label = "Aurora" }, new { optionId = "blaze", label = "Blaze" } } } },
            }),
        })
        {
            create.Headers.Add("X-Operator-Key", PipelineRig.OperatorKey);
            using var created = await Pipeline.Http.SendAsync(create, Ct);
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        }

        var fans = rig.Fans.Take(5).ToList();
        for (var i = 0; i < fans.Count; i++)
        {
            using var answer = new HttpRequestMessage(HttpMethod.Post, $"{Pipeline.Rewards.BaseUrl}/v1/polls/{poll}/answers")
            {
                Content = JsonContent.Create(new { answers = new[] { new { question = 0, choices = new[] { i < 3 ? "blaze" : "aurora" } } } }),
            };
            answer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fans[i].Token);
            using var r = await Pipeline.Http.SendAsync(answer, Ct);
            Assert.True(r.StatusCode == HttpStatusCode.Created, $"fan {i}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(Ct)}");
        }

        var id = $"poll_{poll}_0";
        var deadline = DateTime.UtcNow.AddSeconds(120);
        JsonElement shown = default;
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            using var r = await Pipeline.Http.GetAsync(new Uri($"{Pipeline.Results.BaseUrl}/v1/windows/{id}/results"), Ct);
            seen = $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync(Ct)}";
            if (r.IsSuccessStatusCode && (shown = JsonDocument.Parse(seen[4..]).RootElement.Clone()).GetProperty("total").GetInt64() == fans.Count)
            {
                break;
            }

            await Task.Delay(250, Ct);
        }

        Assert.True(shown.ValueKind == JsonValueKind.Object && shown.GetProperty("total").GetInt64() == fans.Count, $"results shows the poll's {fans.Count} answers within 120 s; last seen {seen}");
        Assert.Equal("Best performance?", shown.GetProperty("title").GetString());
        Assert.Equal((3L, 2L), (shown.GetProperty("counts").GetProperty("blaze").GetInt64(), shown.GetProperty("counts").GetProperty("aurora").GetInt64()));

        // No window may be created under a poll question's results id.
        using var window = new HttpRequestMessage(HttpMethod.Post, $"{Pipeline.Orchestrator.BaseUrl}/v1/windows")
        {
            Content = JsonContent.Create(new { windowId = id, title = "Squatter", candidates = new[] { "a", "b" }, opensAt = DateTimeOffset.UtcNow, closesAt = DateTimeOffset.UtcNow.AddHours(1) }),
        };
        window.Headers.Add("X-Operator-Key", PipelineRig.OperatorKey);
        using var refused = await Pipeline.Http.SendAsync(window, Ct);
        var body = await refused.Content.ReadAsStringAsync(Ct);
        Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{(int)refused.StatusCode} {body}");
        Assert.Contains("poll_", body, StringComparison.Ordinal);
    }
}
