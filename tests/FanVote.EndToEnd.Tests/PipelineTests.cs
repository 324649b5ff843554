using System.Diagnostics;
using System.Text.Json;

namespace FanVote.EndToEnd.Tests;

/// <summary>
/// 50,000 votes from 5,000 accounts through the real pipeline, with retries and replays: the results match
/// exactly, and accepted == persisted == counted — also when the tally and its sidecar are SIGKILLed mid-burst.
/// </summary>
public sealed class PipelineTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] Candidates = ["aurora", "blaze", "comet", "dune"];
    private readonly PipelineRig _rig = new();

    public ValueTask InitializeAsync() => _rig.InitializeAsync();

    public ValueTask DisposeAsync() => _rig.DisposeAsync();

    [Fact]
    public async Task Pipeline_50000VotesWithRetriesAndReplays_ResultsExact_AcceptedEqualsPersistedEqualsCounted()
    {
        await RunAsync("e2e-" + Guid.NewGuid().ToString("N")[..6], killTallyAt: null);
    }

    [Fact]
    public async Task Pipeline_TallyKilledMidBurstAndRestarted_StillExact()
    {
        await RunAsync("e2ek-" + Guid.NewGuid().ToString("N")[..6], killTallyAt: 15_000);
    }

    private async Task RunAsync(string window, int? killTallyAt)
    {
        const int Accounts = 5_000;
        const int PerAccount = 10;
        await _rig.CreateWindowAsync(window, Candidates, PerAccount);
        var fans = new Fans(_rig.IngressHttp, window, Candidates, Accounts, PerAccount);
        var tokens = await fans.SignInAsync();
        await WaitUntilIngressKnowsAsync(window, tokens[0]);

        var killed = 0;
        Task? kill = null;
        var sw = Stopwatch.StartNew();
        await fans.VoteAsync(tokens, concurrency: 96, progress: done =>
        {
            if (killTallyAt is { } at && done == at && Interlocked.Exchange(ref killed, 1) == 0)
            {
                kill = Task.Run(async () =>
                {
                    await _rig.Tally.KillAsync();
                    await Task.Delay(1000);
                    await _rig.Tally.StartAsync();
                });
            }
        });
        var voting = sw.Elapsed;
        if (kill is not null)
        {
            await kill;
        }

        var accepted = fans.Accepted.Count;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        long persisted;
        while ((persisted = await _rig.LedgerCountAsync(window)) < accepted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        JsonElement results = default;
        while (DateTime.UtcNow < deadline)
        {
            results = await _rig.ResultsAsync(window);
            if (results.ValueKind == JsonValueKind.Object && results.GetProperty("total").GetInt64() == accepted)
            {
                break;
            }

            await Task.Delay(250);
        }

        output.WriteLine($"{accepted} votes accepted in {voting.TotalSeconds:F1} s ({accepted / voting.TotalSeconds:F0}/s) with {fans.Retries} retries and {fans.Replays} replays; " +
                         $"persisted {persisted}; all persisted {sw.Elapsed.TotalSeconds:F1} s after the first vote" + (killTallyAt is null ? "" : "; tally SIGKILLed mid-burst"));

        Assert.Equal(Accounts * PerAccount, accepted);
        Assert.Equal(accepted, await _rig.IngressAcceptedAsync(window));
        Assert.Equal(fans.Accepted.Keys.ToHashSet(), await _rig.LedgerIdsAsync(window));
        var expected = fans.Accepted.Values.GroupBy(c => c).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(expected, await _rig.LedgerCountsAsync(window));
        Assert.Equal(accepted, results.GetProperty("total").GetInt64());
        foreach (var (candidate, n) in expected)
        {
            Assert.Equal(n, results.GetProperty("counts").GetProperty(candidate).GetInt64());
        }
    }

    private async Task WaitUntilIngressKnowsAsync(string window, string token)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var r = await _rig.IngressHttp.SendAsync(request);
            if (r.StatusCode != System.Net.HttpStatusCode.NotFound)
            {
                return;
            }

            await Task.Delay(100);
        }
    }
}
